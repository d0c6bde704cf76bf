import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { buildScenario, solveStepOutlet, type Plant, type Scenario } from '@pipac/twin';
import {
  tuneConversionPid,
  type ConversionPidTuning,
} from '../baselines/conversion-pid.controller';
import {
  runCoordinated,
  type CoordinatedRunOptions,
  type CoordinatedRunResult,
} from './coordinated-run';
import { capacityFromConversion } from './step-capacity';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));
const HOUR = 3600;
const ids = ['nitration', 'hydrogenation', 'acetylation'] as const;

/**
 * The oracle's capacity of step `index`: the scale at which the twin's own steady-state model
 * (tanks in series, the true catalyst activity and tank compositions) just meets minConversion.
 * A fixed point of the first-order estimate, exact when it has converged.
 */
function trueCapacity(plant: Plant, index: number): number {
  const unit = plant.units[index]!;
  const step = unit.step;
  const record = (c: ArrayLike<number>) =>
    Object.fromEntries(model.speciesIds.map((id, i) => [id, c[i]!]));
  const tankCompositions = Object.fromEntries(
    model.tanks.map((t) => [t.id, record(plant.tank(t.id).concentrations)]),
  );
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    const solution = solveStepOutlet(
      model,
      step,
      {
        flows: Object.fromEntries(step.inlets.map((inlet) => [inlet.pump, inlet.nominal * scale])),
        catalystActivity: unit.activity,
        tankCompositions,
      },
      { model: 'cells' },
    );
    const keyIn = solution.inlet.concentrations[step.keyIndex]!;
    const x = 1 - solution.outlet.concentrations[step.keyIndex]! / keyIn;
    const next = Math.min(2, capacityFromConversion(x, scale, step.minConversion));
    if (Math.abs(next - scale) < 1e-4) return next;
    scale = next;
  }
  return scale;
}

/** The hydrogenation's capacity as the oracle knows it and as the coordinator estimated it. */
interface Probe {
  t: number;
  truth: number;
  estimate: number;
}

let tunings: Record<string, ConversionPidTuning>;

function run(
  policy: 'coordinated' | 'naive',
  scenario: Scenario,
  extra: Partial<CoordinatedRunOptions> = {},
  probeEvery = 0,
): CoordinatedRunResult & { probes: Probe[] } {
  const probes: Probe[] = [];
  const result = runCoordinated({
    model,
    scenario,
    policy,
    tunings,
    ...extra,
    onCycle: (row, plant) => {
      if (probeEvery > 0 && row.t > 0 && row.t % probeEvery === 0) {
        probes.push({
          t: row.t,
          truth: trueCapacity(plant, 1),
          estimate: row.steps['hydrogenation']!.capacity,
        });
      }
    },
  });
  return { ...result, probes };
}

const inBounds = (result: CoordinatedRunResult) => {
  for (const tank of model.tanks) {
    expect(result.levelRange[tank.id]!.min).toBeGreaterThanOrEqual(tank.minLevel);
    expect(result.levelRange[tank.id]!.max).toBeLessThanOrEqual(tank.maxLevel);
  }
  expect(result.tankEvents).toEqual({ empty: 0, overflow: 0, outOfBand: 0 });
};
const deviation = (result: CoordinatedRunResult) =>
  Math.max(
    ...model.tanks.map((tank) => {
      const mid = (tank.minLevel + tank.maxLevel) / 2;
      const range = result.levelRange[tank.id]!;
      return Math.max(range.max - mid, mid - range.min);
    }),
  );
const productAt = (result: CoordinatedRunResult, t: number) =>
  result.trace.find((row) => row.t >= t)?.product ?? result.product;
const during = (result: CoordinatedRunResult, from: number, to: number) =>
  result.trace.filter((row) => row.t >= from && row.t < to);
const bottleneckThroughput = (result: CoordinatedRunResult) =>
  result.steps['hydrogenation']!.productInSpec + result.steps['hydrogenation']!.productOffSpec;

beforeAll(() => {
  tunings = Object.fromEntries(model.steps.map((s) => [s.id, tuneConversionPid(model, s.id)]));
});

describe('the coordinator on the twin (PID baselines behind their shields, dt 2 s, 60 s cycles)', () => {
  describe('nominal: the hydrogenation bed ages slowly and becomes the bottleneck', () => {
    let coordinated: ReturnType<typeof run>;
    let naive: ReturnType<typeof run>;
    beforeAll(() => {
      const scenario = buildScenario('nominal', model, 1, 8 * HOUR);
      coordinated = run('coordinated', scenario, {}, HOUR);
      naive = run('naive', scenario);
    });

    it('keeps the tanks near mid-band where the naive plant lets them drift', () => {
      inBounds(coordinated);
      expect(deviation(coordinated)).toBeLessThan(0.2);
      expect(deviation(naive)).toBeGreaterThan(2 * deviation(coordinated));
    });

    it('runs the bottleneck near its capacity, as much as it runs without a coordinator', () => {
      const late = during(coordinated, 2 * HOUR, 8 * HOUR);
      const named = late.filter((row) => row.bottleneck === 'hydrogenation').length;
      expect(named / late.length).toBeGreaterThan(0.7);
      for (const probe of coordinated.probes.filter((p) => p.t >= 2 * HOUR)) {
        // The estimate tracks the oracle's capacity, and the step runs close to it.
        expect(Math.abs(probe.estimate - probe.truth) / probe.truth).toBeLessThan(0.1);
        const hour = during(coordinated, probe.t - HOUR, probe.t);
        const scale =
          hour.reduce((sum, row) => sum + row.steps['hydrogenation']!.scale, 0) / hour.length;
        expect(scale / probe.truth).toBeGreaterThan(0.8);
      }
      expect(bottleneckThroughput(coordinated)).toBeGreaterThan(0.97 * bottleneckThroughput(naive));
      // Production goes on to the end.
      expect(coordinated.product - productAt(coordinated, 6 * HOUR)).toBeGreaterThan(20);
    });
  });

  describe('catalyst deactivation: the bottleneck loses half its capacity', () => {
    let coordinated: ReturnType<typeof run>;
    let naive: ReturnType<typeof run>;
    beforeAll(() => {
      const scenario = buildScenario('catalyst-deactivation', model, 1, 8 * HOUR);
      coordinated = run('coordinated', scenario, {}, HOUR);
      naive = run('naive', scenario);
    });

    it('without a coordinator tank-1 overflows and tank-2 runs dry', () => {
      expect(naive.tankEvents.overflow).toBeGreaterThan(0);
      expect(naive.tankEvents.empty).toBeGreaterThan(0);
    });

    it('slows the other steps with the degrading one and keeps every tank in its band', () => {
      inBounds(coordinated);
      for (const probe of coordinated.probes.filter((p) => p.truth >= 0.55)) {
        expect(Math.abs(probe.estimate - probe.truth) / probe.truth).toBeLessThan(0.15);
      }
      const first = coordinated.trace.find((row) => row.t >= HOUR)!;
      const last = coordinated.trace[coordinated.trace.length - 1]!;
      expect(last.steps['hydrogenation']!.capacity).toBeLessThan(0.6);
      for (const id of ['nitration', 'acetylation']) {
        expect(first.steps[id]!.target).toBeGreaterThan(0.9);
        expect(last.steps[id]!.target).toBeLessThanOrEqual(
          last.steps['hydrogenation']!.capacity + 1e-9,
        );
      }
      expect(bottleneckThroughput(coordinated)).toBeGreaterThan(0.97 * bottleneckThroughput(naive));
    });
  });

  describe('the hydrogenation stops for 3 h and restarts', () => {
    const outage = { step: 'hydrogenation', start: HOUR, duration: 3 * HOUR };
    let coordinated: ReturnType<typeof run>;
    let naive: ReturnType<typeof run>;
    beforeAll(() => {
      const scenario = buildScenario('nominal', model, 1, 8 * HOUR);
      coordinated = run('coordinated', scenario, { outages: [outage] });
      // Without a coordinator the tanks pass their bounds within the outage.
      naive = run(
        'naive',
        { ...scenario, duration: outage.start + outage.duration },
        { outages: [outage] },
      );
    });

    it('without a coordinator tank-1 overflows and tank-2 runs dry', () => {
      expect(naive.tankEvents.overflow).toBeGreaterThan(0);
      expect(naive.tankEvents.empty).toBeGreaterThan(0);
    });

    it('throttles upstream and runs on downstream, pausing each at its tank’s guard', () => {
      inBounds(coordinated);
      const stop = during(coordinated, outage.start, outage.start + outage.duration);
      const nitration = stop.map((row) => row.steps['nitration']!);
      const acetylation = stop.map((row) => row.steps['acetylation']!);
      // Throttled before it paused, and paused only when tank-1 neared its high bound.
      expect(nitration.some((s) => s.action === 'run' && s.target < 0.8)).toBe(true);
      expect(nitration.some((s) => s.action === 'pause' && /tank-1 high/.test(s.reason))).toBe(
        true,
      );
      expect(acetylation.some((s) => s.action === 'pause' && /tank-2 low/.test(s.reason))).toBe(
        true,
      );
      // The buffers were used: tank-1 filled and tank-2 emptied to their guards.
      expect(coordinated.levelRange['tank-1']!.max).toBeGreaterThan(1.65);
      expect(coordinated.levelRange['tank-2']!.min).toBeLessThan(0.35);
    });

    it('rebalances after the restart and brings the levels back towards mid-band', () => {
      const restart = outage.start + outage.duration;
      const at = coordinated.trace.find((row) => row.t >= restart + 30 * 60)!;
      const last = coordinated.trace[coordinated.trace.length - 1]!;
      for (const id of ids) expect(last.steps[id]!.action).toBe('run');
      for (const tank of ['tank-1', 'tank-2']) {
        expect(Math.abs(last.levels[tank]! - 1)).toBeLessThan(
          0.75 * Math.abs(at.levels[tank]! - 1),
        );
      }
      expect(coordinated.product - productAt(coordinated, restart + HOUR)).toBeGreaterThan(20);
    });
  });

  describe('an order for 100 g of paracetamol', () => {
    const order = { id: 'PO-4711', quantity: 100 };
    let coordinated: ReturnType<typeof run>;
    let naive: ReturnType<typeof run>;
    beforeAll(() => {
      const scenario = buildScenario('nominal', model, 1, 8 * HOUR);
      coordinated = run('coordinated', scenario, { order });
      naive = run('naive', scenario, { order });
    });

    it('completes no later than the naive plant, stopping the nitration once the tanks hold enough', () => {
      inBounds(coordinated);
      expect(coordinated.completedAt).toBeDefined();
      expect(naive.completedAt).toBeDefined();
      expect(coordinated.completedAt!).toBeLessThanOrEqual(naive.completedAt!);
      const stopped = coordinated.trace.find(
        (row) =>
          row.steps['nitration']!.action === 'pause' &&
          /^order PO-4711/.test(row.steps['nitration']!.reason),
      )!;
      expect(stopped.product).toBeLessThan(0.7 * order.quantity);
      // No more phenol nitrated than the order needs: about a third of the naive plant's.
      expect(coordinated.steps['nitration']!.productInSpec).toBeLessThan(
        0.5 * naive.steps['nitration']!.productInSpec,
      );
      // What is left in process is what the guards keep: both tanks near their low guard.
      const last = coordinated.trace[coordinated.trace.length - 1]!;
      for (const tank of ['tank-1', 'tank-2']) expect(last.levels[tank]!).toBeLessThan(0.4);
    });
  });
});
