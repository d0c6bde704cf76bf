import { CalibrationError } from './calibration.error';
import { leastSquares } from './least-squares';

/** y = a·exp(−b·t): the textbook exponential decay, with an exact solution to recover. */
function decayProblem(a: number, b: number, noise: (i: number) => number = () => 0) {
  const t = Array.from({ length: 12 }, (_, i) => i * 0.5);
  const evaluated: number[][] = [];
  return {
    evaluated,
    problem: {
      observed: Float64Array.from(t, (ti, i) => a * Math.exp(-b * ti) + noise(i)),
      model: (theta: readonly number[]) => {
        evaluated.push([...theta]);
        return Float64Array.from(t, (ti) => theta[0]! * Math.exp(-theta[1]! * ti));
      },
      initial: [1, 0.2],
      lower: [-10, -10],
      upper: [10, 10],
      differenceStep: [1e-7, 1e-7],
    },
  };
}

describe('leastSquares', () => {
  it('recovers an exact solution and stops by itself', () => {
    const { problem } = decayProblem(2.5, 0.7);
    const progress: number[] = [];
    const result = leastSquares(problem, { onProgress: (_, ssr) => progress.push(ssr) });
    expect(result.theta[0]).toBeCloseTo(2.5, 8);
    expect(result.theta[1]).toBeCloseTo(0.7, 8);
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(30);
    expect(progress[0]).toBe(result.initialSsr);
    expect(progress.at(-1)).toBe(result.ssr);
  });

  it('stops at a noisy optimum on the relative SSR change, well before the iteration limit', () => {
    const { problem } = decayProblem(2.5, 0.7, (i) => 0.01 * Math.sin(7 * i));
    const result = leastSquares(problem);
    expect(result.stopReason).toMatch(/converged|no-improvement/);
    expect(result.iterations).toBeLessThan(30);
    expect(result.theta[0]).toBeCloseTo(2.5, 1);
  });

  it('evaluates the model once per distinct parameter vector', () => {
    const { problem, evaluated } = decayProblem(2.5, 0.7);
    const result = leastSquares(problem);
    expect(new Set(evaluated.map((theta) => theta.join(','))).size).toBe(evaluated.length);
    expect(result.evaluations).toBe(evaluated.length);
  });

  it('keeps parameters inside their bounds', () => {
    const { problem } = decayProblem(2.5, 0.7);
    const result = leastSquares({ ...problem, upper: [2, 10] });
    expect(result.theta[0]).toBeLessThanOrEqual(2);
  });

  it('stops at the iteration limit and says so', () => {
    const { problem } = decayProblem(2.5, 0.7);
    const result = leastSquares(problem, { maxIterations: 2 });
    expect(result).toMatchObject({ iterations: 2, converged: false, stopReason: 'max-iterations' });
  });

  it('refuses too few observations and a model that fails at the start', () => {
    const { problem } = decayProblem(2.5, 0.7);
    expect(() => leastSquares({ ...problem, observed: Float64Array.of(1, 2) })).toThrow(
      CalibrationError,
    );
    expect(() =>
      leastSquares({ ...problem, model: () => new Float64Array(12).fill(Number.NaN) }),
    ).toThrow(/cannot be solved at the initial/);
  });
});
