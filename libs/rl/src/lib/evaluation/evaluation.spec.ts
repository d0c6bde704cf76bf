import { join } from 'node:path';
import type { StepController, StepReadings } from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { buildScenario } from '@pipac/twin';
import { runClosedLoop } from './closed-loop';
import { DEFAULT_SEEDS, evaluateControllers } from './evaluation';
import { productValuation } from './product-value';

const RECIPES = join(__dirname, '../../../../../recipes');
const reference = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
const firstOrder = compilePlant(loadRecipe(join(RECIPES, 'first-order-pfr.yaml')));

/** Holds whatever setpoints are applied, and counts its calls. */
class HoldingController implements StepController {
  readonly name = 'hold';
  decisions = 0;
  resets = 0;
  constructor(private readonly failEvery = 0) {}
  decide(readings: StepReadings): Record<string, number> {
    this.decisions++;
    if (this.failEvery > 0 && this.decisions % this.failEvery === 0) throw new Error('no answer');
    return { ...readings.setpoints };
  }
  reset(): void {
    this.resets++;
  }
}

describe('evaluation', () => {
  it('draws analyser drift both ways over the default seeds', () => {
    const rates = Array.from({ length: DEFAULT_SEEDS }, (_, i) =>
      buildScenario('analyser-drift', reference, 1 + i, 8 * 3600).disturbances.map((d) =>
        d.kind === 'analyser-drift' ? d.ratePerHour : 0,
      ),
    );
    const firstAnalyser = rates.map((r) => r[0]!);
    expect(firstAnalyser.some((r) => r > 0)).toBe(true);
    expect(firstAnalyser.some((r) => r < 0)).toBe(true);
  });

  it('charges key reactant fed past the throughput target at its product value', async () => {
    const scenario = buildScenario('nominal', firstOrder, 1, 3600);
    const run = await runClosedLoop({
      model: firstOrder,
      scenario,
      throughputTarget: () => 0.8,
      control: (_, spaces) => ({
        [spaces[0]!.step.id]: { controller: new HoldingController(), agentLimits: false },
      }),
    });
    const valuation = productValuation(firstOrder);
    const fed = valuation.nominalFreshKeyRate[0]! * 3600;
    const excess = 0.2 * fed;
    const { product, inventoryChange, overTarget, score } = run.score;
    // At the key's nominal value, or at what this run made of it where that is more.
    const realised = (product + inventoryChange) / (fed * valuation.perKeyMole[0]!);
    expect(overTarget).toBeCloseTo(excess * valuation.perKeyMole[0]! * Math.max(1, realised), 6);
    expect(score).toBeCloseTo(product + inventoryChange - overTarget, 9);
    expect(overTarget).toBeGreaterThan(0.15 * product);
  });

  it('gives product made past the target no value, even at a better yield than the recipe', async () => {
    // Twice the rate constant: conversion, and so product per key fed, above the recipe's.
    const scenario = buildScenario('nominal', firstOrder, 1, 3600);
    scenario.disturbances.push({
      kind: 'kinetic-mismatch',
      step: firstOrder.steps[0]!.id,
      factor: 2,
    });
    const run = (target: number) =>
      runClosedLoop({
        model: firstOrder,
        scenario,
        throughputTarget: () => target,
        control: (_, spaces) => ({
          [spaces[0]!.step.id]: { controller: new HoldingController(), agentLimits: false },
        }),
      });
    const [atTarget, pastTarget] = [await run(1), await run(0.8)];
    const made = atTarget.score.product + atTarget.score.inventoryChange;
    const valuation = productValuation(firstOrder);
    const nominalValue = valuation.nominalFreshKeyRate[0]! * 3600 * valuation.perKeyMole[0]!;
    expect(made).toBeGreaterThan(1.01 * nominalValue);
    expect(atTarget.score.overTarget).toBe(0);
    // The same plant asked for 80 %: its score is what 80 % of the feed made, no more.
    expect(pastTarget.score.score).toBeCloseTo(0.8 * atTarget.score.score, 6);
  });

  it('charges nothing to a controller that feeds exactly at the target (rounding is not excess)', async () => {
    // The reference plant's three steps at the recipe's flows: its key feeds integrate to the
    // target's within 1e-10 g, not exactly.
    const run = await runClosedLoop({
      model: reference,
      scenario: buildScenario('nominal', reference, 1, 3600),
      throughputTarget: () => 1,
      control: (_, spaces) =>
        Object.fromEntries(
          spaces.map((space) => [
            space.step.id,
            { controller: new HoldingController(), agentLimits: false },
          ]),
        ),
    });
    expect(run.score.overTarget).toBe(0);
  });

  it('keeps the fallback integrating while the agent acts, as the step agent does', async () => {
    const agent = new HoldingController(5);
    const fallback = new HoldingController();
    await runClosedLoop({
      model: firstOrder,
      scenario: buildScenario('nominal', firstOrder, 1, 1800),
      control: (_, spaces) => ({
        [spaces[0]!.step.id]: { controller: agent, fallback, agentLimits: true },
      }),
    });
    expect(agent.decisions).toBe(30);
    expect(fallback.decisions).toBe(30); // every cycle, not only the six it held the step
    expect([agent.resets, fallback.resets]).toEqual([1, 1]);
  });

  it('summarises every scenario and controller over the seeds, the oracle at 1 of itself', async () => {
    const evaluation = await evaluateControllers({
      model: firstOrder,
      scenarios: ['nominal'],
      controllers: ['fixed-recipe', 'oracle'],
      duration: 1800,
      seed: 4,
      seeds: 2,
    });
    expect(evaluation.seeds).toEqual([4, 5]);
    expect(evaluation.rows).toHaveLength(4);
    expect(evaluation.runs).toHaveLength(2);
    const [fixed, oracle] = evaluation.stats;
    expect(fixed!.controller).toBe('fixed-recipe');
    expect(fixed!.seeds).toBe(2);
    expect(oracle!.fractionOfOracle).toEqual({ mean: 1, halfWidth: 0, n: 2 });
    expect(fixed!.steps[0]!.inSpecFraction.mean).toBeGreaterThan(0);
    const bound = evaluation.checks.find((c) => c.target.startsWith('no controller above'));
    expect(bound?.scenario).toBe('nominal');
    expect(evaluation.checks.some((c) => c.target.startsWith('agent'))).toBe(false);
  }, 60_000);

  it('gives the same rows on worker threads as in this thread', async () => {
    const options = {
      model: firstOrder,
      scenarios: ['nominal', 'feed-drift'],
      controllers: ['fixed-recipe', 'pid', 'oracle'] as const,
      duration: 1800,
      seed: 7,
      seeds: 2,
    };
    const here = await evaluateControllers(options);
    const pooled = await evaluateControllers({
      ...options,
      workers: 2,
      source: { recipe: join(RECIPES, 'first-order-pfr.yaml') },
    });
    expect([here.workers, pooled.workers]).toEqual([1, 2]);
    expect(pooled.rows).toEqual(here.rows);
    expect(pooled.tunings).toEqual(here.tunings);
    expect(pooled.rows).toHaveLength(12);
  }, 120_000);
});
