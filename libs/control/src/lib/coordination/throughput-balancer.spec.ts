import { join } from 'node:path';
import { compilePlant, loadRecipe, type Recipe } from '@pipac/recipe';
import { SeededRandom } from '@pipac/twin';
import { nominalSteadyState } from '../step/step-space';
import { CoordinationError } from './coordination.error';
import { derivePlantChain } from './plant-chain';
import {
  ThroughputBalancer,
  type BalanceSnapshot,
  type StepAvailability,
  type StepState,
} from './throughput-balancer';

const recipe = loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml'));
const model = compilePlant(recipe);
const ML_PER_MIN = 1 / 60_000;

type Steps = Partial<Record<'nitration' | 'hydrogenation' | 'acetylation', Partial<StepState>>>;

/** A snapshot of the reference plant: every step running at 1 with the given capacities. */
function snapshot(
  capacities: [number, number, number],
  levels: [number, number] = [1, 1],
  steps: Steps = {},
  extra: Partial<BalanceSnapshot> = {},
): BalanceSnapshot {
  const ids = ['nitration', 'hydrogenation', 'acetylation'] as const;
  return {
    time: 0,
    steps: Object.fromEntries(
      ids.map((id, i) => [
        id,
        { availability: 'running', capacity: capacities[i]!, scale: 1, ...steps[id] },
      ]),
    ),
    tanks: { 'tank-1': levels[0], 'tank-2': levels[1] },
    ...extra,
  };
}

const target = (decision: ReturnType<ThroughputBalancer['balance']>, step: string) =>
  decision.targets.find((t) => t.step === step)!;

describe('derivePlantChain', () => {
  it('derives the line, its ratios and what a litre in each tank is worth', () => {
    const chain = derivePlantChain(model);
    expect(chain.steps.map((s) => [s.id, s.inletTank, s.outletTank])).toEqual([
      ['nitration', -1, 0],
      ['hydrogenation', 0, 1],
      ['acetylation', 1, -1],
    ]);
    // Gas is counted as dissolved: the hydrogenation leaves with its liquid, 7.3 mL/min.
    expect(chain.steps.map((s) => s.nominalOutletFlow)).toEqual([7.3, 7.3, 7.6]);
    expect(chain.steps.map((s) => s.ratio)).toEqual([1, 1, 1]);
    for (const tank of chain.tanks) {
      expect(tank.fill).toBeCloseTo(7.3 * ML_PER_MIN, 15);
      expect(tank.draw).toBeCloseTo(7.3 * ML_PER_MIN, 15);
    }
    // A litre of tank-2 becomes 7.6/7.3 L of product stream at the steady outlet strength.
    const outlet = nominalSteadyState(model).steps[2]!.outlet['paracetamol']!;
    const perLitre = (outlet * model.molarMass[model.productIndex]! * 7.6) / 7.3;
    expect(chain.tanks[1]!.productPerLitre).toBeCloseTo(perLitre, 9);
    expect(chain.tanks[0]!.productPerLitre).toBeCloseTo(perLitre, 9);
    expect(perLitre).toBeGreaterThan(40); // about 45 g/L of paracetamol
  });

  it('balances the ratios of a recipe whose nominal flows do not match', () => {
    const edited: Recipe = structuredClone(recipe);
    edited.steps[1]!.inlets[0]!.flow.nominal = 14.6; // the hydrogenation draws twice as fast
    const chain = derivePlantChain(compilePlant(edited));
    expect(chain.steps.map((s) => s.ratio)).toEqual([1, 0.5, 1]);
  });

  it('refuses a plant that is not one serial line', () => {
    const edited: Recipe = structuredClone(recipe);
    edited.steps[2]!.inlets[0]!.tank = 'tank-1'; // two steps draw tank-1, none tank-2
    expect(() => derivePlantChain(compilePlant(edited))).toThrow(CoordinationError);
    expect(() => derivePlantChain(compilePlant(edited))).toThrow(/drawn by/);
  });
});

describe('ThroughputBalancer', () => {
  const balancer = new ThroughputBalancer(model);

  it('runs the line at the bottleneck’s capacity', () => {
    const decision = balancer.balance(snapshot([1.2, 0.84, 1.1]));
    expect(decision.bottleneck).toBe('hydrogenation');
    expect(decision.chainRate).toBeCloseTo(0.84, 12);
    for (const t of decision.targets) {
      expect(t.action).toBe('run');
      expect(t.scale).toBeCloseTo(0.84, 12);
      expect(t.band.min).toBeLessThanOrEqual(t.scale);
      expect(t.band.max).toBeGreaterThanOrEqual(t.scale);
      expect(t.band.min).toBeGreaterThanOrEqual(0.5);
      expect(t.band.max).toBeLessThanOrEqual(1.5);
    }
    expect(target(decision, 'hydrogenation').reason).toBe('bottleneck hydrogenation 0.84');
    expect(target(decision, 'nitration').reason).toBe('follows bottleneck hydrogenation 0.84');
    expect(target(decision, 'acetylation').outletFlow).toBeCloseTo(0.84 * 7.6, 12);
  });

  it('is deterministic and keeps no state between calls', () => {
    const s = snapshot([1.2, 0.84, 1.1], [1.3, 0.6]);
    const first = balancer.balance(s);
    balancer.balance(snapshot([0.6, 0.6, 0.6], [0.25, 1.75]));
    expect(balancer.balance(s)).toEqual(first);
  });

  it('steers tanks upstream of the bottleneck with the filler, downstream with the drawer', () => {
    // Both tanks 0.4 L above mid-band: error 0.5 of the half band, change 0.25 of the pace.
    const decision = balancer.balance(snapshot([1.2, 0.84, 1.1], [1.4, 1.4]));
    expect(target(decision, 'nitration').scale).toBeCloseTo(0.84 - 0.25, 12);
    expect(target(decision, 'hydrogenation').scale).toBeCloseTo(0.84, 12);
    expect(target(decision, 'acetylation').scale).toBeCloseTo(0.84 + 0.25, 12);
    expect(target(decision, 'nitration').reason).toMatch(/tank-1 high 1\.40 L/);
    expect(target(decision, 'acetylation').reason).toMatch(/tank-2 high 1\.40 L/);
    // Low tanks: the other way round.
    const low = balancer.balance(snapshot([1.2, 0.84, 1.1], [0.6, 0.6]));
    expect(target(low, 'nitration').scale).toBeCloseTo(0.84 + 0.25, 12);
    expect(target(low, 'acetylation').scale).toBeCloseTo(0.84 - 0.25, 12);
  });

  it('slows the line as a degrading step loses capacity, never below the turndown', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (const capacity of [1, 0.9, 0.8, 0.7, 0.6]) {
      const decision = balancer.balance(snapshot([1.2, capacity, 1.1]));
      for (const t of decision.targets) expect(t.scale).toBeCloseTo(capacity, 12);
      expect(capacity).toBeLessThan(previous);
      previous = capacity;
    }
    const below = balancer.balance(snapshot([1.2, 0.3, 1.1]));
    for (const t of below.targets) expect(t.scale).toBe(0.5);
    expect(target(below, 'hydrogenation').reason).toMatch(/capacity 0\.30 below turndown/);
  });

  it('assumes the design point for a step whose capacity is unknown', () => {
    const decision = balancer.balance(snapshot([Number.NaN, 1.2, 1.3]));
    expect(decision.bottleneck).toBe('nitration');
    expect(decision.chainRate).toBe(1);
  });

  it('when a step stops, holds the others to its pace and lets the tanks absorb it', () => {
    const stopped = { hydrogenation: { availability: 'stopped' as StepAvailability, scale: 0 } };
    const decision = balancer.balance(snapshot([1.2, 0.84, 1.1], [1, 1], stopped));
    // The steps around it do not speed up because it stopped.
    expect(decision.bottleneck).toBe('hydrogenation');
    expect(target(decision, 'hydrogenation')).toMatchObject({ action: 'none', scale: 0 });
    expect(target(decision, 'nitration').scale).toBeCloseTo(0.84, 12);
    expect(target(decision, 'acetylation').scale).toBeCloseTo(0.84, 12);
    // As tank-1 fills the nitration throttles, as tank-2 empties the acetylation.
    const later = balancer.balance(snapshot([1.2, 0.84, 1.1], [1.5, 0.5], stopped));
    expect(target(later, 'nitration').scale).toBeCloseTo(0.84 - 0.5 * 0.625, 12);
    expect(target(later, 'acetylation').scale).toBeCloseTo(0.84 - 0.5 * 0.625, 12);
    // At the guard levels (0.28 and 1.72 L) they pause.
    const full = balancer.balance(snapshot([1.2, 0.84, 1.1], [1.716, 0.284], stopped));
    expect(target(full, 'nitration')).toMatchObject({ action: 'pause', scale: 0 });
    expect(target(full, 'nitration').reason).toMatch(/^tank-1 high 1\.72 L: paused/);
    expect(target(full, 'acetylation')).toMatchObject({ action: 'pause', scale: 0 });
    expect(target(full, 'acetylation').reason).toMatch(/^tank-2 low 0\.28 L: paused/);
  });

  it('throttles before pausing when the turndown allows it', () => {
    // End of an order: the acetylation draws tank-2 down at capacity; 3 mL above the guard
    // it may take, over the 120 s horizon, what comes in plus those 3 mL.
    const decision = balancer.balance(
      snapshot([1.2, 0.84, 1.1], [1, 0.283], {}, { order: { id: 'o', remaining: 20 } }),
    );
    const allowed = (0.84 * 7.3 * ML_PER_MIN + (0.283 - 0.28) / 120) / (7.3 * ML_PER_MIN);
    expect(allowed).toBeGreaterThan(0.5);
    expect(target(decision, 'acetylation').scale).toBeCloseTo(allowed, 9);
    expect(target(decision, 'acetylation').reason).toMatch(/^tank-2 low 0\.28 L: throttled/);
  });

  it('resumes a paused step only with room on both sides (hysteresis)', () => {
    const stopped = { hydrogenation: { availability: 'stopped' as StepAvailability, scale: 0 } };
    const paused = { ...stopped, nitration: { scale: 0 } };
    // Guard 1.72 L, resume below 1.72 − 0.16 = 1.56 L.
    const waiting = balancer.balance(snapshot([1.2, 0.84, 1.1], [1.6, 1], paused));
    expect(target(waiting, 'nitration')).toMatchObject({ action: 'pause', scale: 0 });
    expect(target(waiting, 'nitration').reason).toMatch(/^paused: tank-1 high 1\.60 L/);
    const resumed = balancer.balance(snapshot([1.2, 0.84, 1.1], [1.5, 1], paused));
    expect(target(resumed, 'nitration').action).toBe('run');
    expect(target(resumed, 'nitration').scale).toBeGreaterThanOrEqual(0.5);
  });

  it('follows a held step and commands nothing of it', () => {
    const held = { hydrogenation: { availability: 'held' as StepAvailability, scale: 0.7 } };
    const decision = balancer.balance(snapshot([1.2, 1.0, 1.1], [1, 1], held));
    expect(decision.bottleneck).toBe('hydrogenation');
    expect(target(decision, 'hydrogenation')).toMatchObject({ action: 'none', scale: 0.7 });
    expect(target(decision, 'nitration').scale).toBeCloseTo(0.7, 12);
    expect(target(decision, 'acetylation').scale).toBeCloseTo(0.7, 12);
  });

  describe('orders', () => {
    const chain = derivePlantChain(model);
    const perLitre = chain.tanks[1]!.productPerLitre;
    // Usable: down to the guard (0.28 L) less what the drawer takes at its lowest pace
    // over one guard horizon (0.5 × 7.3 mL/min × 120 s).
    const usable = (level: number) => level - 0.28 - 0.5 * 7.3 * ML_PER_MIN * 120;

    it('stops the upstream steps once the tanks hold enough and draws them down at capacity', () => {
      const inProcess = 2 * usable(1) * perLitre;
      const remaining = inProcess / 1.05;
      const decision = balancer.balance(
        snapshot([1.2, 0.84, 1.1], [1, 1], {}, { order: { id: 'PO-7', remaining } }),
      );
      expect(decision.order).toMatchObject({ id: 'PO-7', endGame: true, complete: false });
      expect(decision.order!.inProcess).toBeCloseTo(inProcess, 9);
      expect(target(decision, 'nitration')).toMatchObject({ action: 'pause', scale: 0 });
      expect(target(decision, 'nitration').reason).toMatch(/^order PO-7: .* in process covers/);
      expect(target(decision, 'hydrogenation').scale).toBeCloseTo(0.84, 12);
      expect(target(decision, 'acetylation').scale).toBeCloseTo(1.1, 12);
      expect(target(decision, 'acetylation').reason).toMatch(
        /drawing down tank-2 at capacity 1\.10/,
      );
    });

    it('keeps the line going while the order needs more than is in process', () => {
      const decision = balancer.balance(
        snapshot([1.2, 0.84, 1.1], [1, 1], {}, { order: { id: 'PO-7', remaining: 1000 } }),
      );
      expect(decision.order!.endGame).toBe(false);
      for (const t of decision.targets) expect(t.scale).toBeCloseTo(0.84, 12);
    });

    it('draws the tank after the bottleneck down once the order would end before it could empty', () => {
      // Product rate at the pace, and the time the acetylation needs to empty tank-2
      // running at 1.1 against the hydrogenation's 0.84.
      const rate = perLitre * 7.3 * ML_PER_MIN * 0.84;
      const drainTime = usable(1) / (7.3 * ML_PER_MIN * (1.1 - 0.84));
      const at = (remaining: number) =>
        balancer.balance(snapshot([1.2, 0.84, 1.1], [1, 1], {}, { order: { id: 'o', remaining } }));
      expect(target(at(rate * drainTime * 1.01), 'acetylation').scale).toBeCloseTo(0.84, 12);
      expect(target(at(rate * drainTime * 0.99), 'acetylation').scale).toBeCloseTo(1.1, 12);
    });

    it('pauses everything once the order is complete', () => {
      const decision = balancer.balance(
        snapshot([1.2, 0.84, 1.1], [1, 1], {}, { order: { id: 'PO-7', remaining: 0 } }),
      );
      expect(decision.order!.complete).toBe(true);
      for (const t of decision.targets) {
        expect(t).toMatchObject({ action: 'pause', scale: 0, reason: 'order PO-7 complete' });
      }
    });
  });

  it('refuses a snapshot it cannot trust', () => {
    const bad = (s: BalanceSnapshot) => () => balancer.balance(s);
    expect(bad({ ...snapshot([1, 1, 1]), tanks: { 'tank-1': 1 } })).toThrow(
      /tank tank-2: level undefined/,
    );
    expect(bad(snapshot([1, 1, 1], [Number.NaN, 1]))).toThrow(CoordinationError);
    expect(bad(snapshot([1, 1, 1], [1, 1], { nitration: { scale: -0.1 } }))).toThrow(/scale -0\.1/);
    const two = Object.fromEntries(
      Object.entries(snapshot([1, 1, 1]).steps).filter(([id]) => id !== 'acetylation'),
    );
    expect(bad({ ...snapshot([1, 1, 1]), steps: two })).toThrow(/no step acetylation/);
  });

  it('never sends a tank past a guard level, nor a running step outside its turndown (random snapshots)', () => {
    const random = new SeededRandom(7);
    const guards = model.tanks.map((tank) => balancer.levels(tank.id));
    const horizon = 120;
    const flow = 7.3 * ML_PER_MIN;
    for (let trial = 0; trial < 1000; trial++) {
      const availability = (): StepAvailability =>
        random.uniform() < 0.15 ? 'stopped' : 'running';
      const state = (): Partial<StepState> => {
        const a = availability();
        return {
          availability: a,
          scale: a === 'stopped' || random.uniform() < 0.2 ? 0 : random.between(0.5, 1.5),
        };
      };
      const levels: [number, number] = [random.between(0.2, 1.8), random.between(0.2, 1.8)];
      const steps = { nitration: state(), hydrogenation: state(), acetylation: state() };
      const capacities: [number, number, number] = [
        random.between(0.2, 1.6),
        random.between(0.2, 1.6),
        random.between(0.2, 1.6),
      ];
      const order =
        random.uniform() < 0.3 ? { order: { id: 'o', remaining: random.between(-5, 150) } } : {};
      const decision = balancer.balance(snapshot(capacities, levels, steps, order));
      const u = decision.targets.map((t) => t.scale);
      decision.targets.forEach((t, s) => {
        if (t.action === 'run') {
          expect(t.scale).toBeGreaterThanOrEqual(0.5 - 1e-12);
          expect(t.scale).toBeLessThanOrEqual(Math.min(1.5, Math.max(0.5, capacities[s]!)) + 1e-12);
          expect(t.band.min).toBeLessThanOrEqual(t.scale + 1e-12);
          expect(t.band.max).toBeGreaterThanOrEqual(t.scale - 1e-12);
        } else expect(t.scale).toBe(0);
      });
      levels.forEach((level, t) => {
        const predicted = level + horizon * flow * (u[t]! - u[t + 1]!);
        const { low, high } = guards[t]!;
        // Inside the guard levels it stays inside; outside them it does not go further out.
        expect(predicted).toBeLessThanOrEqual(Math.max(high, level) + 1e-9);
        expect(predicted).toBeGreaterThanOrEqual(Math.min(low, level) - 1e-9);
      });
    }
  });
});
