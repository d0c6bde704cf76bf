import { Matrix } from 'ml-matrix';
import { SeededRandom } from '@pipac/twin';
import { solveBoxQp, type BoxQp } from './box-qp';

/** A random positive definite problem of size n (seeded). */
function randomProblem(random: SeededRandom, n: number, soft = 0): BoxQp {
  const a = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a.set(i, j, random.normal());
  const hessian = a.transpose().mmul(a).add(Matrix.eye(n).mul(0.1));
  return {
    hessian,
    linear: Float64Array.from({ length: n }, () => 3 * random.normal()),
    lower: new Float64Array(n).fill(-1),
    upper: new Float64Array(n).fill(1),
    soft: Array.from({ length: soft }, () => ({
      a: Float64Array.from({ length: n }, () => random.normal()),
      b: random.normal(),
      weight: 100,
    })),
  };
}

function value(problem: BoxQp, z: ArrayLike<number>): number {
  const v = Matrix.columnVector(Array.from(z));
  let f = 0.5 * v.transpose().mmul(problem.hessian).mmul(v).get(0, 0);
  for (let i = 0; i < z.length; i++) f += problem.linear[i]! * z[i]!;
  for (const s of problem.soft) {
    let excess = -s.b;
    for (let i = 0; i < z.length; i++) excess += s.a[i]! * z[i]!;
    if (excess > 0) f += s.weight * excess ** 2;
  }
  return f;
}

describe('solveBoxQp', () => {
  it('finds the unconstrained minimum −H⁻¹c inside the box', () => {
    const hessian = new Matrix([
      [4, 1],
      [1, 3],
    ]);
    const problem: BoxQp = {
      hessian,
      linear: Float64Array.of(-1, -2),
      lower: Float64Array.of(-10, -10),
      upper: Float64Array.of(10, 10),
      soft: [],
    };
    const { z, residual } = solveBoxQp(problem);
    // H z = −c: 4a + b = 1, a + 3b = 2 → a = 1/11, b = 7/11.
    expect(z[0]).toBeCloseTo(1 / 11, 10);
    expect(z[1]).toBeCloseTo(7 / 11, 10);
    expect(residual).toBeLessThan(1e-9);
  });

  it('keeps the box and satisfies the optimality conditions on random problems', () => {
    const random = new SeededRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const problem = randomProblem(random, 9, 4);
      const { z, residual } = solveBoxQp(problem);
      z.forEach((v) => expect(Math.abs(v)).toBeLessThanOrEqual(1));
      expect(residual).toBeLessThan(1e-6);
      // No box point nearby is better (a random probe of 200 points).
      const best = value(problem, z);
      for (let k = 0; k < 200; k++) {
        const probe = z.map((v) => Math.max(-1, Math.min(1, v + 0.05 * random.normal())));
        expect(value(problem, probe)).toBeGreaterThanOrEqual(best - 1e-9);
      }
    }
  });

  it('holds a soft constraint within weight-sized slack', () => {
    const problem: BoxQp = {
      hessian: Matrix.eye(1).mul(0.01),
      linear: Float64Array.of(-1), // pushes z up
      lower: Float64Array.of(-5),
      upper: Float64Array.of(5),
      soft: [{ a: Float64Array.of(1), b: 1, weight: 1e6 }], // z ≤ 1, softly
    };
    const { z } = solveBoxQp(problem);
    // Stationary: 0.01 z − 1 + 2e6 (z − 1) = 0.
    expect(z[0]).toBeCloseTo(1 + (1 - 0.01) / (2e6 + 0.01), 9);
  });
});
