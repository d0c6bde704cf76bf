import { ControllerWriteGate } from './controller-write-gate';

describe('ControllerWriteGate', () => {
  it('lets controllers write until anything is known, and while the step is in Automatic', () => {
    const gate = new ControllerWriteGate();
    expect(gate.refusal()).toBeUndefined();
    gate.modeChanged('automatic', 1000, 'user:op');
    expect(gate.refusal()).toBeUndefined();
  });

  it("refuses controllers from an operator's setpoint on, until Automatic is set again later", () => {
    const gate = new ControllerWriteGate();
    gate.modeChanged('automatic', 1000, 'user:op');
    gate.operatorWrote(2000, 'user:op');
    expect(gate.refusal()).toMatch(
      /Operator mode since 1970-01-01T00:00:02.000Z \(user:op took the hand/,
    );
    // The agent's feedback of the switch the operator's setpoint caused.
    gate.modeChanged('operator', 2100, 'step-agent.nitration');
    expect(gate.refusal()).toMatch(/Operator/);
    gate.modeChanged('automatic', 3000, 'user:op');
    expect(gate.refusal()).toBeUndefined();
  });

  it('never lets an older event override a newer one (topics arrive out of order)', () => {
    const gate = new ControllerWriteGate();
    gate.operatorWrote(2000, 'user:op');
    gate.modeChanged('automatic', 1500, 'step-agent.nitration'); // older: ignored
    expect(gate.refusal()).toMatch(/Operator/);
    gate.modeChanged('offline', 2500, 'user:op');
    expect(gate.refusal()).toMatch(/Offline/);
    gate.modeChanged('automatic', Number.NaN, 'nobody');
    expect(gate.refusal()).toMatch(/Offline/);
  });
});
