import type { PlantModel } from '@pipac/recipe';
import { SeededRandom } from '../random/seeded-random';
import { SimulationError } from './simulation.error';

/** One disturbance acting on the plant; times in s from the start of the run. */
export type Disturbance =
  /** Extra first-order loss of catalyst activity (or of the step's rates where it has no catalyst), 1/h. */
  | { kind: 'catalyst-deactivation'; step: string; start: number; rate: number }
  /** Feed concentrations move linearly to factor × nominal over `duration`. */
  | { kind: 'feed-drift'; feed: string; start: number; duration: number; factor: number }
  /** Heat transfer falls and pressure drop rises linearly to the given factors over `duration`. */
  | {
      kind: 'fouling';
      step: string;
      start: number;
      duration: number;
      heatTransferFactor: number;
      pressureDropFactor: number;
    }
  /** From `start` the pump delivers factor × its setpoint. */
  | { kind: 'pump-calibration'; pump: string; start: number; factor: number }
  /** The analyser's results carry a relative bias growing by `ratePerHour` per hour. */
  | { kind: 'analyser-drift'; analyser: string; start: number; ratePerHour: number }
  /** No results from the analyser between start and start + duration. */
  | { kind: 'analyser-outage'; analyser: string; start: number; duration: number }
  /** The real plant's rate constants differ from the recipe's by this factor (for robustness). */
  | { kind: 'kinetic-mismatch'; step: string; factor: number };

export const SCENARIO_NAMES = [
  'nominal',
  'catalyst-deactivation',
  'feed-drift',
  'fouling',
  'pump-calibration',
  'analyser-drift',
  'analyser-outage',
  'combined',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  name: string;
  seed: number;
  /** s */
  duration: number;
  disturbances: Disturbance[];
}

/** The scenarios made of one kind of disturbance; `combined` draws them all. */
type PartName = Exclude<ScenarioName, 'nominal' | 'combined'>;

/** What a part draws its disturbances from: the plant, the run's length and its own random stream. */
interface PartContext {
  model: PlantModel;
  /** s */
  duration: number;
  random: SeededRandom;
  /** A drawn offset from 0 (an error, a rate, a share) × the severity (ScenarioOptions.severity). */
  stretch: (value: number) => number;
  /** A drawn factor of a nominal value, raised to the severity: as far again in log terms. */
  stretchFactor: (value: number) => number;
  /** A start time 10–30 % into the run, from `random`. */
  onset: () => number;
}

/** The disturbances of each part, in the order `combined` draws them. */
const PARTS: Record<PartName, (context: PartContext) => Disturbance[]> = {
  // Activity falls to 35–60 % of its course without the disturbance by the end of the run.
  'catalyst-deactivation': ({ model, duration, random, onset, stretchFactor }) => {
    const beds = model.steps.filter((s) => s.type === 'packed-bed');
    const targets = beds.length > 0 ? beds : model.steps.slice(0, 1);
    return targets.map((step) => {
      const start = onset();
      const remaining = stretchFactor(random.between(0.35, 0.6));
      const rate = -Math.log(remaining) / Math.max((duration - start) / 3600, 1e-6);
      return { kind: 'catalyst-deactivation', step: step.id, start, rate };
    });
  },
  // The stock solution of the first key reactant weakens by 8–15 % over half the run.
  'feed-drift': ({ model, duration, random, onset, stretchFactor }) => {
    const first = model.steps[0]!;
    const inlet = first.inlets.find(
      (i) => i.source === 'feed' && model.feeds[i.sourceIndex]!.concentrations[first.keyIndex]! > 0,
    );
    const feed = model.feeds[inlet?.sourceIndex ?? 0]!;
    return [
      {
        kind: 'feed-drift',
        feed: feed.id,
        start: onset(),
        duration: duration / 2,
        factor: stretchFactor(random.between(0.85, 0.92)),
      },
    ];
  },
  // Deposits halve to a third of the heat transfer and double the pressure drop over the run.
  fouling: ({ model, duration, random, onset, stretchFactor }) =>
    model.steps.map((step) => ({
      kind: 'fouling',
      step: step.id,
      start: onset(),
      duration: duration * 0.6,
      heatTransferFactor: stretchFactor(random.between(0.3, 0.5)),
      pressureDropFactor: stretchFactor(random.between(1.5, 3)),
    })),
  // One pump of the first step delivers 7–12 % off its setpoint.
  'pump-calibration': ({ model, random, onset, stretch }) => {
    const inlets = model.steps[0]!.inlets;
    const inlet = inlets[Math.floor(random.uniform() * inlets.length)]!;
    const error = stretch(random.between(0.07, 0.12) * (random.uniform() < 0.5 ? -1 : 1));
    return [{ kind: 'pump-calibration', pump: inlet.pump, start: onset(), factor: 1 + error }];
  },
  // Every analyser's calibration drifts by 1–3 % per hour, up or down.
  'analyser-drift': ({ model, random, onset, stretch }) =>
    model.steps.flatMap((step) =>
      step.spec.analyser
        ? [
            {
              kind: 'analyser-drift',
              analyser: step.spec.analyser.tag,
              start: onset(),
              ratePerHour: stretch(random.between(0.01, 0.03) * (random.uniform() < 0.5 ? -1 : 1)),
            },
          ]
        : [],
    ),
  // The first analyser is out for 10–20 % of the run.
  'analyser-outage': ({ model, duration, random, onset, stretch }) => {
    const step = model.steps.find((s) => s.spec.analyser);
    if (!step?.spec.analyser) return [];
    return [
      {
        kind: 'analyser-outage',
        analyser: step.spec.analyser.tag,
        start: onset(),
        duration: Math.min(0.7, stretch(random.between(0.1, 0.2))) * duration,
      },
    ];
  },
};

export interface ScenarioOptions {
  /**
   * How far beyond the realistic ranges stated beside each part the magnitudes go: offsets
   * (a pump's error, an analyser's drift rate, an outage's share of the run) × severity,
   * factors (remaining activity, feed strength, heat transfer, pressure drop) to the power of
   * severity. At 1.5: a pump 10 % off is 15 % off, an outage of 15 % of the run lasts 22.5 %
   * (at most 70 %), activity falling to 35 % falls to 21 %, heat transfer at 30 % is at 16 %.
   * For testing what a controller does outside what it was trained on. @default 1
   */
  severity?: number;
}

/**
 * A named disturbance scenario for any recipe, its magnitudes and onsets drawn from `seed`
 * within realistic ranges (same seed, same scenario). Ranges are stated beside each case.
 */
export function buildScenario(
  name: string,
  model: PlantModel,
  seed: number,
  duration: number,
  options: ScenarioOptions = {},
): Scenario {
  const severity = options.severity ?? 1;
  if (!(severity > 0))
    throw new SimulationError('SCENARIO_INVALID', `severity must be positive, got ${severity}`);
  // Severity 1 returns the drawn value itself, so scenarios stay bit for bit what they were.
  const stretch = (value: number) => (severity === 1 ? value : value * severity);
  const stretchFactor = (value: number) => (severity === 1 ? value : value ** severity);
  if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
    throw new SimulationError(
      'SCENARIO_INVALID',
      `unknown scenario "${name}"; choose one of ${SCENARIO_NAMES.join(', ')}`,
    );
  }
  // One stream per kind of disturbance: adding one to a scenario shifts none of the others.
  const base = new SeededRandom(seed);
  const draw = (part: PartName): Disturbance[] => {
    const random = base.fork(`scenario:${part}`);
    const onset = () => random.between(0.1, 0.3) * duration;
    return PARTS[part]({ model, duration, random, onset, stretch, stretchFactor });
  };
  let disturbances: Disturbance[];
  if (name === 'nominal') disturbances = [];
  else if (name === 'combined') disturbances = (Object.keys(PARTS) as PartName[]).flatMap(draw);
  else disturbances = draw(name as PartName);
  return { name, seed, duration, disturbances };
}

/** Linear ramp 0 → 1 from start over duration. */
export function ramp(t: number, start: number, duration: number): number {
  if (t <= start) return 0;
  if (duration <= 0 || t >= start + duration) return 1;
  return (t - start) / duration;
}
