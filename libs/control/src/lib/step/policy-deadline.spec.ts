import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { SafetyShield } from '../safety-shield';
import type { DeadlineTimers } from './policy-deadline';
import { PolicyController, type Policy } from './policy.controller';
import type { StepReadings } from './step-readings';
import { StepSpace } from './step-space';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));
const space = new StepSpace(model, 'nitration');
const readings: StepReadings = {
  time: 0,
  setpoints: space.nominalSetpoints(),
  analyser: undefined,
  maxTemperature: 31,
  pressure: 3.2,
  throughputTarget: 1,
};

/** Timers that fire only when the test says so. */
function fakeTimers(): DeadlineTimers & { fire(): void; pending: number } {
  const due = new Map<number, () => void>();
  let next = 0;
  return {
    setTimeout: (callback) => (due.set(++next, callback), next),
    clearTimeout: (handle) => void due.delete(handle as number),
    fire: () => [...due.values()].forEach((callback) => callback()),
    get pending() {
      return due.size;
    },
  };
}

const policy = (act: Policy['act']): Policy => ({ version: 'sha256:test', act });
const fallback = () => ({ 'P-101': 5.5, 'P-102': 1.2, 'TC-101': 30 });

/** One control cycle as the step agent runs it: propose (or fail), then the shield. */
async function cycle(controller: PolicyController, timers?: ReturnType<typeof fakeTimers>) {
  const proposed = controller.decide(readings).catch((e: unknown) => e as Error);
  timers?.fire(); // the cycle's deadline passes
  const agent = await proposed;
  const shield = new SafetyShield({ setpoints: space.shieldLimits(), inputs: [] });
  return {
    agent,
    decision: shield.decide({ current: readings.setpoints, inputs: [], agent, fallback }),
  };
}

describe('the policy deadline', () => {
  it('hands a hung policy over to the fallback in the same cycle', async () => {
    const timers = fakeTimers();
    const hung = new PolicyController(
      space,
      policy(() => new Promise(() => undefined)),
      {
        deadlineMs: 15_000,
        timers,
      },
    );
    const { agent, decision } = await cycle(hung, timers);
    expect(agent).toMatchObject({ name: 'PolicyError', code: 'DEADLINE_EXCEEDED' });
    expect(decision.source).toBe('fallback');
    expect(decision.interventions[0]).toMatchObject({ reason: 'policy-failed' });
  });

  it('hands a policy that throws, or answers NaN, over to the fallback in the same cycle', async () => {
    const timers = fakeTimers();
    const throwing = new PolicyController(
      space,
      policy(() => Promise.reject(new Error('onnx session died'))),
      { deadlineMs: 15_000, timers },
    );
    const nan = new PolicyController(
      space,
      policy(() => Promise.resolve(new Float32Array(space.actionSize).fill(Number.NaN))),
      { deadlineMs: 15_000, timers },
    );
    for (const [controller, code] of [
      [throwing, undefined],
      [nan, 'NON_FINITE_ACTION'],
    ] as const) {
      const { agent, decision } = await cycle(controller);
      expect(agent).toBeInstanceOf(Error);
      if (code) expect(agent).toMatchObject({ code });
      expect(decision.source).toBe('fallback');
    }
    expect(timers.pending).toBe(0); // every deadline cleared once the answer came
  });

  it('lets an answer within the deadline through and clears its timer', async () => {
    const timers = fakeTimers();
    const quick = new PolicyController(
      space,
      policy(() => Promise.resolve(new Float32Array(space.actionSize))),
      { deadlineMs: 15_000, timers },
    );
    const setpoints = await quick.decide(readings);
    expect(Object.keys(setpoints)).toEqual(space.manipulated.map((m) => m.tag));
    expect(timers.pending).toBe(0);
  });
});
