import { InputHistory, lagResponse } from './input-history';

describe('InputHistory', () => {
  const lag = { timeConstant: 100, deadTime: 30 };

  it('reproduces a first-order-plus-dead-time step response', () => {
    const history = new InputHistory([lag], [1]);
    history.record(1000, [3]);
    expect(history.effective(1000)[0]).toBe(1);
    expect(history.effective(1030)[0]).toBe(1); // still inside the dead time
    // One time constant after the dead time: 63.2 % of the step.
    expect(history.effective(1130)[0]).toBeCloseTo(1 + 2 * (1 - Math.exp(-1)), 12);
    expect(history.effective(1e6)[0]).toBeCloseTo(3, 12);
    expect(history.applied()[0]).toBe(3);
  });

  it('superposes changes and folds settled ones into the base', () => {
    const history = new InputHistory([lag], [0], 0);
    history.record(0, [1]);
    history.record(50, [2]);
    const expected = lagResponse(lag, 200) + lagResponse(lag, 150);
    expect(history.effective(200)[0]).toBeCloseTo(expected, 12);
    // Far later, both changes have settled and are folded away; the value stays.
    history.record(10_000, [2]);
    expect(history.effective(10_000)[0]).toBeCloseTo(2, 12);
  });

  it('starts over from given setpoints', () => {
    const history = new InputHistory([lag, lag], [0, 0]);
    history.record(10, [5, 5]);
    history.restart([2, 3]);
    expect(Array.from(history.effective(10))).toEqual([2, 3]);
  });
});
