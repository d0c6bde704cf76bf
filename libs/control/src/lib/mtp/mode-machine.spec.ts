import { StepModeMachine, type StepModeMachineOptions } from './mode-machine';

function machine(options: Partial<StepModeMachineOptions> = {}) {
  let now = 1000;
  const modes = new StepModeMachine({
    setpointTags: ['P-101', 'TC-101', 'PC-101'],
    clock: () => now,
    ...options,
  });
  return { modes, advance: (ms: number) => (now += ms) };
}

const write = { user: 'alice', tag: 'P-101', value: 2.5, unit: 'mL/min', reason: 'sampling' };

describe('StepModeMachine', () => {
  it('starts in Operator with the agent as the requested source: it never takes control by itself', () => {
    const { modes } = machine();
    expect(modes.mode).toBe('operator');
    expect(modes.source).toBe('agent');
    expect(modes.controllersMayWrite).toBe(false);
    expect(modes.log).toEqual([]);
  });

  it('starts in the mode it is given', () => {
    expect(machine({ mode: 'offline' }).modes.mode).toBe('offline');
  });

  it('takes a request, stamps it with the clock and logs it', () => {
    const { modes, advance } = machine();
    advance(500);
    const change = modes.request('automatic', 'user:alice', 'start');
    expect(change).toEqual({
      at: 1500,
      mode: 'automatic',
      source: 'agent',
      by: 'user:alice',
      reason: 'start',
    });
    expect(modes.mode).toBe('automatic');
    expect(modes.controllersMayWrite).toBe(true);
    expect(modes.log).toEqual([change]);
  });

  it('goes through every transition of Offline, Operator and Automatic', () => {
    const { modes } = machine();
    const path = ['automatic', 'offline', 'operator', 'offline', 'automatic', 'operator'] as const;
    for (const mode of path) expect(modes.request(mode, 'user:op', 'test')?.mode).toBe(mode);
    expect(modes.log.map((c) => c.mode)).toEqual(path);
  });

  it('changes nothing and announces nothing when the mode and the source are already so', () => {
    const { modes } = machine();
    expect(modes.request('operator', 'user:alice', 'again')).toBeUndefined();
    modes.request('automatic', 'user:alice', 'start');
    expect(modes.request('automatic', 'user:alice', 'again')).toBeUndefined();
    expect(modes.log).toHaveLength(1);
  });

  it('changes the source alone in Automatic (the fallback by request, and back)', () => {
    const { modes } = machine();
    modes.request('automatic', 'user:alice', 'start');
    expect(modes.request('automatic', 'user:alice', 'PID', 'fallback')).toMatchObject({
      mode: 'automatic',
      source: 'fallback',
    });
    expect(modes.source).toBe('fallback');
    expect(modes.request('automatic', 'user:alice', 'agent again')?.source).toBe('agent');
  });

  it('a request without a source asks for the agent: leaving Automatic forgets the fallback', () => {
    const { modes } = machine();
    modes.request('automatic', 'user:alice', 'PID', 'fallback');
    expect(modes.request('operator', 'user:alice', 'hand')).toMatchObject({ source: 'agent' });
    expect(modes.source).toBe('agent');
  });

  describe('the operator always wins', () => {
    it("an operator's setpoint write on the step ends Automatic, saying who, what and why", () => {
      const { modes } = machine();
      modes.request('automatic', 'test', 'start');
      expect(modes.operatorWrote(write)).toMatchObject({
        mode: 'operator',
        source: 'agent',
        by: 'user:alice',
        reason: 'operator set P-101 to 2.5 mL/min: sampling',
      });
      expect(modes.mode).toBe('operator');
      expect(modes.controllersMayWrite).toBe(false);
    });

    it('also when the write names the target value (P-101.SP), and when the fallback writes', () => {
      const { modes } = machine();
      modes.request('automatic', 'test', 'start', 'fallback');
      expect(
        modes.operatorWrote({ ...write, tag: 'TC-101.SP', value: 80, unit: '°C' }),
      ).toMatchObject({ mode: 'operator', reason: 'operator set TC-101 to 80 °C: sampling' });
    });

    it("a person's mode request is taken in any mode", () => {
      const { modes } = machine({ mode: 'automatic' });
      expect(modes.request('offline', 'user:bob', 'maintenance')?.mode).toBe('offline');
      expect(modes.request('automatic', 'user:bob', 'back')?.mode).toBe('automatic');
    });
  });

  describe('refusals: a write that changes nothing', () => {
    it('out of Automatic (the step is already the operator’s, or Offline)', () => {
      for (const mode of ['operator', 'offline'] as const) {
        const { modes } = machine({ mode });
        expect(modes.operatorWrote(write)).toBeUndefined();
        expect(modes.mode).toBe(mode);
        expect(modes.log).toEqual([]);
      }
    });

    it("on another step's setpoint, or on a tag that is no setpoint", () => {
      const { modes } = machine({ mode: 'automatic' });
      expect(modes.operatorWrote({ ...write, tag: 'P-201' })).toBeUndefined();
      expect(modes.operatorWrote({ ...write, tag: 'P-201.SP' })).toBeUndefined();
      expect(modes.operatorWrote({ ...write, tag: 'R-101.TI-hot' })).toBeUndefined();
      expect(modes.mode).toBe('automatic');
      expect(modes.log).toEqual([]);
    });
  });
});
