import { DormandPrince } from './dormand-prince';
import { expectClose } from './expect-close';
import { decay, linear, oscillator } from './ode-problems';

describe('DormandPrince', () => {
  it("integrates y' = −y to e^(−t) within the tolerance", () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(1);
    solver.integrate(decay, y, 0, 5, 1e-10, 1e-14);
    expectClose(y[0]!, Math.exp(-5), 1e-8);
    expect(solver.stats.accepted).toBeGreaterThan(5);
    expect(solver.stats.evaluations).toBeGreaterThan(6 * solver.stats.accepted);
  });

  it.each([-0.3, -2, -50, 0.5, 2])("integrates y' = λy with λ = %s to exp(λt)", (lambda) => {
    const span = Math.min(3, 5 / Math.abs(lambda)); // at most e^−5 of decay: stays well above atol
    const solver = new DormandPrince(1);
    const y = Float64Array.of(2);
    solver.integrate(linear(lambda), y, 0, span, 1e-10, 1e-14);
    expectClose(y[0]!, 2 * Math.exp(lambda * span), 1e-7);
  });

  it('reaches the exact end time, and calls onStep after each accepted step', () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(1);
    const times: number[] = [];
    solver.integrate(decay, y, 1, 4.25, 1e-8, 1e-12, (t, state) => {
      times.push(t);
      expectClose(state[0]!, Math.exp(-(t - 1)), 1e-6);
    });
    expect(times.length).toBe(solver.stats.accepted);
    expect(times[times.length - 1]).toBe(4.25);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
  });

  it('a harmonic oscillator keeps amplitude and phase over ten periods', () => {
    const omega = 2 * Math.PI;
    const solver = new DormandPrince(2);
    const y = Float64Array.of(1, 0);
    solver.integrate(oscillator(omega), y, 0, 10, 1e-10, 1e-12);
    expect(Math.abs(y[0]! - 1)).toBeLessThan(1e-7);
    expect(Math.abs(y[1]!)).toBeLessThan(1e-6 * omega);
    const energy = y[0]! ** 2 + (y[1]! / omega) ** 2;
    expect(Math.abs(energy - 1)).toBeLessThan(1e-7);
  });

  it('a harmonic oscillator matches cos and sin at a quarter and a third of a period', () => {
    const omega = 3;
    for (const t of [Math.PI / 6, (2 * Math.PI) / 9, 7.1]) {
      const solver = new DormandPrince(2);
      const y = Float64Array.of(1, 0);
      solver.integrate(oscillator(omega), y, 0, t, 1e-11, 1e-13);
      expect(Math.abs(y[0]! - Math.cos(omega * t))).toBeLessThan(1e-8);
      expect(Math.abs(y[1]! + omega * Math.sin(omega * t))).toBeLessThan(1e-8 * omega);
    }
  });

  it('tighter tolerances give smaller errors with more steps', () => {
    const errors: number[] = [];
    const steps: number[] = [];
    for (const rtol of [1e-4, 1e-7, 1e-10]) {
      const solver = new DormandPrince(2);
      const y = Float64Array.of(1, 0);
      solver.integrate(oscillator(1), y, 0, 20, rtol, rtol * 1e-3);
      errors.push(Math.abs(y[0]! - Math.cos(20)));
      steps.push(solver.stats.accepted);
    }
    expect(errors[1]).toBeLessThan(errors[0]!);
    expect(errors[2]).toBeLessThan(errors[1]!);
    expect(steps[1]).toBeGreaterThan(steps[0]!);
    expect(steps[2]).toBeGreaterThan(steps[1]!);
  });

  it('a system of different time scales: y₁ = e^(−t), y₂ = e^(−10t), y₃ = t²', () => {
    const solver = new DormandPrince(3);
    const y = Float64Array.of(1, 1, 0);
    solver.integrate(
      (t, s, ds) => {
        ds[0] = -s[0]!;
        ds[1] = -10 * s[1]!;
        ds[2] = 2 * t;
      },
      y,
      0,
      2,
      1e-10,
      1e-14,
    );
    expectClose(y[0]!, Math.exp(-2), 1e-8);
    expectClose(y[1]!, Math.exp(-20), 1e-5);
    expectClose(y[2]!, 4, 1e-12);
  });

  it('reuses its buffers: a second integration on the same solver is as accurate', () => {
    const solver = new DormandPrince(1);
    const first = Float64Array.of(1);
    solver.integrate(linear(-1), first, 0, 2, 1e-10, 1e-14);
    const second = Float64Array.of(1);
    solver.integrate(linear(-1), second, 0, 2, 1e-10, 1e-14);
    expect(second[0]).toBe(first[0]);
  });

  it('an empty or backward span leaves y alone', () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(3);
    solver.integrate(decay, y, 2, 2, 1e-8, 1e-12);
    solver.integrate(decay, y, 2, 1, 1e-8, 1e-12);
    expect(y[0]).toBe(3);
    expect(solver.stats.evaluations).toBe(0);
  });

  it('a constant solution stays put', () => {
    const solver = new DormandPrince(2);
    const y = Float64Array.of(0, 5);
    solver.integrate((_t, _s, ds) => ds.fill(0), y, 0, 100, 1e-8, 1e-12);
    expect(Array.from(y)).toEqual([0, 5]);
  });

  it('throws when the step budget is exceeded', () => {
    const solver = new DormandPrince(2);
    const y = Float64Array.of(1, 0);
    expect(() => solver.integrate(oscillator(50), y, 0, 100, 1e-12, 1e-14, undefined, 20)).toThrow(
      /exceeded 20 steps/,
    );
  });

  it('throws when the right-hand side stops being finite during the integration', () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(1);
    expect(() =>
      solver.integrate(
        (t, s, ds) => {
          ds[0] = t < 0.5 ? -s[0]! : Number.NaN;
        },
        y,
        0,
        1,
        1e-8,
        1e-12,
      ),
    ).toThrow(/not finite at t=0\.(4999|5)/);
  });

  it('throws "not finite" when the right-hand side is NaN from the start', () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(1);
    expect(() =>
      solver.integrate(
        (_t, _s, ds) => {
          ds[0] = Number.NaN;
        },
        y,
        0,
        1,
        1e-8,
        1e-12,
        undefined,
        1000,
      ),
    ).toThrow(/not finite/);
  });

  it('a blow-up (finite-time singularity of y′ = y²) is refused rather than stepped over', () => {
    const solver = new DormandPrince(1);
    const y = Float64Array.of(1); // y = 1/(1 − t): infinite at t = 1
    expect(() =>
      solver.integrate(
        (_t, s, ds) => {
          ds[0] = s[0]! * s[0]!;
        },
        y,
        0,
        2,
        1e-8,
        1e-12,
      ),
    ).toThrow();
  });
});
