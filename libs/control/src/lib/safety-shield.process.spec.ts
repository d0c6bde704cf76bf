import { join } from 'node:path';
import fc from 'fast-check';
import { compilePlant, loadRecipe, type Recipe } from '@pipac/recipe';
import { Plant, type Scenario } from '@pipac/twin';
import { SafetyShield } from './safety-shield';
import { ProcessLimitGuard } from './step/process-limit.guard';
import { readStep } from './step/step-readings';
import { StepSpace } from './step/step-space';

/**
 * The reference plant with its hydrogenation (ΔTad ≈ 53 K) held to tighter limits, as if the
 * bed's sintering onset were 85 °C and the medium boiled at 100 °C: the top of the engineering
 * ranges (hot spot about 94 °C) and of the agent's (MTSR about 100 °C) then cross them, as a
 * pushed recipe would, so an unguarded shield can be driven past a limit.
 */
function tightened(): Recipe {
  const recipe = loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml'));
  const hydrogenation = recipe.steps.find((step) => step.id === 'hydrogenation')!;
  hydrogenation.limits = {
    ...hydrogenation.limits,
    maxTemperature: 85,
    maxTechnicalTemperature: 100,
  };
  return recipe;
}
const model = compilePlant(tightened());
const spaces = model.steps.map((step) => new StepSpace(model, step.id));
const guards = spaces.map((space) => new ProcessLimitGuard(space));
/**
 * The twin stands for the real plant, and the real plant is not the recipe: its catalyst and
 * its nitration run 40 % faster than the guard's model knows, so the guard must rely on what it
 * measures, not only on what it predicts.
 */
const MISMATCH: Scenario = {
  name: 'faster than the recipe',
  seed: 1,
  duration: 6 * 3600,
  disturbances: [
    { kind: 'kinetic-mismatch', step: 'nitration', factor: 1.4 },
    { kind: 'kinetic-mismatch', step: 'hydrogenation', factor: 1.4 },
  ],
};
/** Fixed, and printed by fast-check with the counterexample when the property fails. */
const SEED = 20_260_516;
const CYCLE = 60; // s
/** The step quantities of the twin's limit monitor the shield answers for. */
const GUARDED = ['temperature', 'mtsr', 'pressure', 'jacket-temperature', 'back-pressure', 'flow'];
const RUNS = 6;

/** What an adversarial policy (or a broken fallback) proposes for one setpoint, cycle after cycle. */
type Pattern = 'high' | 'low' | 'oscillate' | 'nan' | 'infinity' | 'huge' | number;

interface Segment {
  cycles: number;
  /** The policy fails (throws, hangs, returns NaN): the fallback has control. */
  agentFails: boolean;
  /** By manipulated setpoint (pumps, then the jacket), for the agent and for the fallback. */
  agent: Pattern[];
  fallback: Pattern[];
}

const pattern: fc.Arbitrary<Pattern> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Pattern>('high', 'low') },
  { weight: 1, arbitrary: fc.constantFrom<Pattern>('oscillate', 'nan', 'infinity', 'huge') },
  { weight: 1, arbitrary: fc.double() }, // NaN, ±Infinity, ±huge, -0 included
);
const segment: fc.Arbitrary<Segment> = fc.record({
  cycles: fc.integer({ min: 3, max: 15 }),
  agentFails: fc.boolean(),
  agent: fc.array(pattern, { minLength: 3, maxLength: 3 }),
  fallback: fc.array(pattern, { minLength: 3, maxLength: 3 }),
});
const sequence = fc.array(segment, { minLength: 1, maxLength: 3 });

const all = (p: Pattern): Pattern[] => [p, p, p];
/** Hand-written adversaries, run first: the worst corners held, and a limit cycle. */
const EXAMPLES: [Segment[]][] = [
  // Maximum feed with the hottest jacket, from a broken fallback (held to the engineering range).
  [[{ cycles: 45, agentFails: true, agent: all('nan'), fallback: all('high') }]],
  // Maximum feed with the coldest jacket, then the hottest: the agent's range, then the fallback's.
  [
    [
      { cycles: 15, agentFails: false, agent: ['high', 'high', 'low'], fallback: all('low') },
      { cycles: 40, agentFails: true, agent: all('huge'), fallback: all('high') },
    ],
  ],
  // Oscillation between the corners, the agent failing every other segment.
  [
    [
      { cycles: 10, agentFails: false, agent: all('oscillate'), fallback: all('oscillate') },
      { cycles: 10, agentFails: true, agent: all('infinity'), fallback: all('oscillate') },
      { cycles: 10, agentFails: false, agent: all('high'), fallback: all('high') },
    ],
  ],
];

function proposal(space: StepSpace, patterns: Pattern[], cycle: number): Record<string, number> {
  return Object.fromEntries(
    space.manipulated.map((m, i) => {
      const p = patterns[i] ?? 'high';
      const { low, high } = m.engineering;
      const value =
        typeof p === 'number'
          ? p
          : {
              high,
              low,
              oscillate: cycle % 2 === 0 ? high : low,
              nan: Number.NaN,
              infinity: cycle % 2 === 0 ? Infinity : -Infinity,
              huge: cycle % 2 === 0 ? 1e308 : -1e308,
            }[p];
      return [m.tag, value];
    }),
  );
}

/** Runs the twin through the shields under the adversary; returns every limit crossed. */
function drive(segments: Segment[], guarded: boolean): string[] {
  const plant = new Plant(model, { dt: 1, seed: 1, scenario: MISMATCH });
  plant.warmUp(900);
  plant.drainEvents();
  const shields = spaces.map(
    (space, i) =>
      new SafetyShield({
        setpoints: space.shieldLimits(),
        inputs: [],
        processLimits: guarded ? guards[i] : undefined,
      }),
  );
  const crossed: string[] = [];
  let cycle = 0;
  for (const s of segments) {
    for (let c = 0; c < s.cycles; c++, cycle++) {
      spaces.forEach((space, i) => {
        const readings = readStep(plant, space.step.index);
        const decision = shields[i]!.decide({
          current: readings.setpoints,
          inputs: [],
          agent: s.agentFails ? new Error('policy failed') : proposal(space, s.agent, cycle),
          fallback: () => proposal(space, s.fallback, cycle),
          measured: readings,
        });
        for (const limit of space.shieldLimits()) {
          const value = decision.setpoints[limit.tag];
          if (value === undefined) continue;
          if (!(value >= limit.engineering.low && value <= limit.engineering.high))
            crossed.push(`cycle ${cycle}: ${limit.tag} = ${value} outside its engineering range`);
          plant.setSetpoint(limit.tag, value);
        }
      });
      plant.run(CYCLE);
      for (const event of plant.drainEvents()) {
        const v = event.violation;
        // A pump's engineering range runs from 0 (stopped: MTP Pause, and the shield's safe
        // side on the way there) while the twin reports flows under its running minimum.
        const stopped = v?.quantity.startsWith('flow') && v.bound === 'lower';
        if (
          event.kind === 'violation' &&
          event.step &&
          v &&
          !stopped &&
          GUARDED.some((q) => v.quantity.startsWith(q))
        )
          crossed.push(`cycle ${cycle}: ${event.message}`);
      }
    }
  }
  return crossed;
}

const parameters = (runs: number): fc.Parameters<[Segment[]]> => ({
  seed: SEED,
  numRuns: runs,
  examples: EXAMPLES,
  endOnFailure: true,
});

describe('SafetyShield with the process-limit check, driving the twin', () => {
  it('keeps the twin inside its hot-spot, MTSR, pressure and engineering limits whatever the policy and the fallback propose', () => {
    fc.assert(
      fc.property(sequence, (segments) => {
        const crossed = drive(segments, true);
        if (crossed.length > 0) throw new Error(crossed.slice(0, 5).join('\n'));
      }),
      parameters(RUNS),
    );
  });

  it('finds a crossing when the process-limit check is off (the property can fail)', () => {
    const result = fc.check(
      fc.property(sequence, (segments) => drive(segments, false).length === 0),
      parameters(RUNS),
    );
    expect(result.failed).toBe(true);
  });
});
