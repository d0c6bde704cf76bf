import { Pid } from './pid';

/** A first-order process with dead time: τ·dy/dt = K·u(t − θ) − y, stepped explicitly. */
function firstOrderProcess(gain: number, tau: number, deadTime: number, dt: number) {
  const delay: number[] = Array.from({ length: Math.round(deadTime / dt) }, () => 0);
  let y = 0;
  return (u: number): number => {
    delay.push(u);
    const delayed = delay.shift()!;
    y += (dt / tau) * (gain * delayed - y);
    return y;
  };
}

/** SIMC tuning (Skogestad 2003) of a PI for a first-order process with dead time, τc = θ. */
function simc(gain: number, tau: number, deadTime: number) {
  const tc = deadTime;
  return { kp: tau / (gain * (tc + deadTime)), ti: Math.min(tau, 4 * (tc + deadTime)) };
}

describe('Pid', () => {
  const dt = 1;

  it('brings a first-order process with dead time to the setpoint without offset (SIMC-tuned PI)', () => {
    const process = firstOrderProcess(0.08, 120, 20, dt);
    const pid = new Pid({ ...simc(0.08, 120, 20), outputMin: 0, outputMax: 20 });
    let y = 0;
    let maxY = 0;
    for (let t = 0; t < 1200; t++) {
      y = process(pid.step(0.9, y, dt));
      maxY = Math.max(maxY, y);
    }
    expect(y).toBeCloseTo(0.9, 3);
    expect(maxY).toBeLessThan(0.9 * 1.15); // SIMC with τc = θ: modest overshoot
  });

  it('leaves saturation as soon as the error changes sign (anti-windup)', () => {
    const pid = new Pid({ kp: 2, ti: 10, outputMin: 0, outputMax: 1 });
    // A long stretch the actuator cannot satisfy: the output sits at its maximum.
    for (let t = 0; t < 500; t++) expect(pid.step(10, 0, dt)).toBe(1);
    // The measurement overshoots the setpoint: the output must come off the limit at once.
    const after = pid.step(10, 10.5, dt);
    expect(after).toBeLessThan(1);
  });

  it('starts bumplessly from the actuator value it takes over', () => {
    const pid = new Pid({ kp: 3, ti: 50, td: 5, outputMin: 0, outputMax: 20 });
    pid.reset(7.5, 0.9, 0.85);
    expect(pid.step(0.9, 0.85, dt)).toBeCloseTo(7.5 + (3 * dt * 0.05) / 50, 9);
  });

  it('gives no derivative kick on a setpoint step (derivative on the measurement)', () => {
    const pid = new Pid({ kp: 2, ti: Infinity, td: 30, outputMin: -100, outputMax: 100 });
    pid.reset(0, 0, 0);
    expect(pid.step(1, 0, dt)).toBeCloseTo(2, 12); // the proportional step only
  });

  it('acts in reverse when asked (cooling: more output lowers the measurement)', () => {
    const pid = new Pid({ kp: 1, ti: Infinity, outputMin: -10, outputMax: 10, reverse: true });
    expect(pid.step(20, 25, dt)).toBeCloseTo(5, 12);
  });

  it('refuses settings and inputs it cannot use', () => {
    expect(() => new Pid({ kp: 1, ti: 0, outputMin: 0, outputMax: 1 })).toThrow(
      /ti must be positive/,
    );
    expect(() => new Pid({ kp: 1, ti: 1, outputMin: 1, outputMax: 1 })).toThrow(/empty/);
    expect(() =>
      new Pid({ kp: 1, ti: 1, outputMin: 0, outputMax: 1 }).step(Number.NaN, 0, 1),
    ).toThrow(/finite/);
  });
});
