import { SeededRandom } from '@pipac/twin';
import {
  SafetyShield,
  type InputStatus,
  type ProcessLimitCheck,
  type SetpointLimit,
} from './safety-shield';

const LIMITS: SetpointLimit[] = [
  { tag: 'P-101', engineering: { low: 1, high: 12 }, agent: { low: 3, high: 9 }, maxMove: 0.5 },
  { tag: 'TC-101', engineering: { low: 10, high: 50 }, agent: { low: 20, high: 40 }, maxMove: 2 },
];
const GATES = [{ tag: 'AT-101.conversion', maxAge: 300 }];
const fresh: InputStatus[] = [{ tag: 'AT-101.conversion', quality: 'good', age: 60 }];
const current = { 'P-101': 6, 'TC-101': 30 };

const shield = () => new SafetyShield({ setpoints: LIMITS, inputs: GATES, returnAfterCycles: 2 });
const noFallback = () => undefined;

describe('SafetyShield', () => {
  it('passes an agent proposal inside every limit unchanged', () => {
    const decision = shield().decide({
      current,
      inputs: fresh,
      agent: { 'P-101': 6.3, 'TC-101': 31 },
      fallback: noFallback,
    });
    expect(decision).toEqual({
      setpoints: { 'P-101': 6.3, 'TC-101': 31 },
      source: 'agent',
      interventions: [],
    });
  });

  it('clamps an agent to its narrower range, then to the move limit, and says so', () => {
    const decision = shield().decide({
      current: { 'P-101': 8.8, 'TC-101': 30 },
      inputs: fresh,
      agent: { 'P-101': 11, 'TC-101': 45 },
      fallback: noFallback,
    });
    expect(decision.setpoints).toEqual({ 'P-101': 9, 'TC-101': 32 });
    expect(decision.interventions.map((i) => [i.tag, i.reason])).toEqual([
      ['P-101', 'agent-limit'],
      ['TC-101', 'agent-limit'],
      ['TC-101', 'move-limit'],
    ]);
  });

  it('takes a move of exactly maxMove as proposed, not to a rounded bound (a pump ramping to a stop reaches 0)', () => {
    const pump: SetpointLimit = { tag: 'P-102', engineering: { low: 0, high: 5 }, maxMove: 0.6 };
    const stopping = new SafetyShield({ setpoints: [pump], inputs: GATES });
    // The bound 0.6000000000000005 − 0.6 is 4.4e-16: clamped to it, the pump never stops.
    const decision = stopping.decide({
      current: { 'P-102': 0.6000000000000005 },
      inputs: fresh,
      agent: { 'P-102': 0 },
      fallback: noFallback,
    });
    expect(decision.setpoints).toEqual({ 'P-102': 0 });
    expect(decision.interventions).toEqual([]);
    const far = stopping.decide({
      current: { 'P-102': 0.6000000001 },
      inputs: fresh,
      agent: { 'P-102': 0 },
      fallback: noFallback,
    });
    expect(far.interventions.map((i) => i.reason)).toEqual(['move-limit']);
  });

  it('holds the current value for a missing or non-finite proposal', () => {
    const decision = shield().decide({
      current,
      inputs: fresh,
      agent: { 'P-101': Number.NaN },
      fallback: noFallback,
    });
    expect(decision.setpoints).toEqual(current);
    expect(decision.interventions).toEqual([
      expect.objectContaining({ reason: 'not-finite', tag: 'P-101' }),
    ]);
  });

  it('hands control to the fallback when an input is stale, bad, or the policy fails, and back after healthy cycles', () => {
    const s = shield();
    const fallback = () => ({ 'P-101': 5.8, 'TC-101': 30 });
    const stale: InputStatus[] = [{ tag: 'AT-101.conversion', quality: 'good', age: 900 }];
    const bad: InputStatus[] = [{ tag: 'AT-101.conversion', quality: 'bad', age: 10 }];
    const agent = { 'P-101': 7, 'TC-101': 31 };
    expect(s.decide({ current, inputs: stale, agent, fallback }).source).toBe('fallback');
    expect(s.decide({ current, inputs: fresh, agent, fallback }).source).toBe('fallback'); // 1 healthy cycle
    expect(s.decide({ current, inputs: fresh, agent, fallback }).source).toBe('agent'); // 2: back
    const failed = s.decide({
      current,
      inputs: fresh,
      agent: new Error('onnx session died'),
      fallback,
    });
    expect(failed.source).toBe('fallback');
    expect(failed.interventions[0]).toMatchObject({ reason: 'policy-failed' });
    const missing = s.decide({ current, inputs: bad, agent, fallback: noFallback });
    expect(missing.source).toBe('hold');
    expect(missing.setpoints).toEqual(current);
    expect(missing.interventions.map((i) => i.reason)).toEqual([
      'bad-input',
      'fallback-active',
      'no-fallback',
    ]);
  });

  it('holds the fallback to the engineering range only (not the agent range)', () => {
    const s = shield();
    const decision = s.decide({
      current: { 'P-101': 10, 'TC-101': 30 },
      inputs: [],
      agent: { 'P-101': 10 },
      fallback: () => ({ 'P-101': 10.4, 'TC-101': 30 }),
    });
    expect(decision.source).toBe('fallback');
    expect(decision.setpoints['P-101']).toBe(10.4);
  });

  describe('with the process limits', () => {
    // A stand-in check: the process is safe while the jacket stays below 35 °C.
    const processLimits: ProcessLimitCheck = {
      check: (proposed) =>
        proposed['TC-101']! < 35
          ? { safe: true, detail: '' }
          : { safe: false, detail: `hot spot expected at the limit (${proposed['TC-101']} °C)` },
      safeSide: (c) => ({ 'P-101': c['P-101']! - 0.5, 'TC-101': c['TC-101']! - 2 }),
    };
    const guarded = () =>
      new SafetyShield({ setpoints: LIMITS, inputs: GATES, returnAfterCycles: 2, processLimits });

    it('refuses an agent proposal that would bring the process to a limit: the fallback acts', () => {
      const decision = guarded().decide({
        current: { 'P-101': 6, 'TC-101': 34 },
        inputs: fresh,
        agent: { 'P-101': 6, 'TC-101': 36 },
        fallback: () => ({ 'P-101': 5.8, 'TC-101': 33 }),
      });
      expect(decision.source).toBe('fallback');
      expect(decision.setpoints).toEqual({ 'P-101': 5.8, 'TC-101': 33 });
      expect(decision.interventions.map((i) => i.reason)).toEqual([
        'process-limit',
        'fallback-active',
      ]);
    });

    it('moves to the safe side when the fallback, or a hold, would not keep the limits', () => {
      const s = guarded();
      const current = { 'P-101': 6, 'TC-101': 36 };
      const decision = s.decide({
        current,
        inputs: fresh,
        agent: new Error('hung'),
        fallback: () => ({ 'P-101': 7, 'TC-101': 38 }),
      });
      expect(decision.source).toBe('fallback');
      expect(decision.setpoints).toEqual({ 'P-101': 5.5, 'TC-101': 34 });
      expect(decision.interventions.at(-1)).toMatchObject({ reason: 'process-limit' });
      const held = s.decide({
        current,
        inputs: fresh,
        agent: new Error('hung'),
        fallback: noFallback,
      });
      expect(held.source).toBe('fallback');
      expect(held.setpoints).toEqual({ 'P-101': 5.5, 'TC-101': 34 });
    });

    it('passes a safe proposal as before', () => {
      const decision = guarded().decide({
        current,
        inputs: fresh,
        agent: { 'P-101': 6.3, 'TC-101': 31 },
        fallback: noFallback,
      });
      expect(decision).toEqual({
        setpoints: { 'P-101': 6.3, 'TC-101': 31 },
        source: 'agent',
        interventions: [],
      });
    });
  });

  it('refuses limits that do not nest', () => {
    expect(
      () =>
        new SafetyShield({
          setpoints: [{ tag: 'x', engineering: { low: 0, high: 1 }, agent: { low: -1, high: 1 } }],
          inputs: [],
        }),
    ).toThrow(/agent range/);
    expect(
      () =>
        new SafetyShield({
          setpoints: [{ tag: 'x', engineering: { low: 0, high: Infinity } }],
          inputs: [],
        }),
    ).toThrow(/finite/);
  });

  it('never emits a setpoint outside its engineering range, nor a move beyond maxMove, whatever the input (10,000 random cycles)', () => {
    const random = new SeededRandom(20261128);
    const nasty = [Number.NaN, Infinity, -Infinity, 1e308, -1e308, 0, -0];
    const pick = <T>(items: T[]): T => items[Math.floor(random.uniform() * items.length)]!;
    const value = () => (random.uniform() < 0.2 ? pick(nasty) : random.between(-100, 100));
    const s = shield();
    let applied: Record<string, number> = { ...current };
    const violations: string[] = [];
    const check = (ok: boolean, what: string) => void (ok || violations.push(what));
    for (let cycle = 0; cycle < 10_000; cycle++) {
      const proposal = () =>
        Object.fromEntries(
          LIMITS.filter(() => random.uniform() < 0.9).map((l) => [l.tag, value()]),
        );
      const decision = s.decide({
        current: applied,
        inputs: [
          {
            tag: 'AT-101.conversion',
            quality: pick(['good', 'uncertain', 'bad'] as const),
            age: random.between(0, 600),
          },
        ],
        agent: random.uniform() < 0.05 ? new Error('failed') : proposal(),
        fallback: () => (random.uniform() < 0.3 ? undefined : proposal()),
      });
      for (const limit of LIMITS) {
        const out = decision.setpoints[limit.tag]!;
        const at = `cycle ${cycle} ${limit.tag} = ${out} (was ${applied[limit.tag]}, ${decision.source})`;
        check(Number.isFinite(out), `${at}: not finite`);
        check(
          out >= limit.engineering.low && out <= limit.engineering.high,
          `${at}: outside engineering range`,
        );
        check(
          Math.abs(out - applied[limit.tag]!) <= limit.maxMove! + 1e-12,
          `${at}: moved too far`,
        );
        if (decision.source === 'agent') {
          // Inside the agent range, or on the way to it at the full move (the move limit wins).
          const before = applied[limit.tag]!;
          const inside = out >= limit.agent!.low && out <= limit.agent!.high;
          const approaching =
            Math.abs(Math.abs(out - before) - limit.maxMove!) < 1e-9 &&
            (before < limit.agent!.low ? out > before : out < before);
          check(inside || approaching, `${at}: outside the agent range`);
        }
      }
      applied = decision.setpoints;
    }
    expect(violations).toEqual([]);
  });
});
