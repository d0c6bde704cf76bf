/**
 * Speed of the digital twin, single-threaded (one core), as training a population of agents
 * needs it. A script, not a test: it prints what it measured against the targets and never
 * fails a build. Run with `npm run bench:twin`.
 *
 * 1. Steady-state solutions per second of a 5-species, 4-reaction plug-flow reactor
 *    (recipes/benchmark-5x4.yaml) at the default tolerances, with their accuracy against a
 *    tightly solved reference (rtol 1e-12) at every condition used.
 * 2. Simulated plant-seconds per wall-second of the reference plant (paracetamol) at dt = 1 s,
 *    disturbed (the training workload) and at rest.
 * 3. Steps per second of one reaction step alone at a 10 s control interval.
 */
import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { Plant, buildScenario, solveStepOutlet, type StepConditions } from '../src/index';

const root = join(__dirname, '..', '..', '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 3);

interface Timing {
  /** Median rate over the rounds, per second. */
  perSecond: number;
  low: number;
  high: number;
}

/**
 * Rate of `body` (which returns how much it did): `BENCH_SECONDS` split into rounds of about
 * 0.5 s, reported as the median with the slowest and fastest round, because a shared
 * 2-core machine varies by ±30 % from one second to the next.
 */
function timeIt(label: string, body: () => number): Timing {
  body(); // warm-up: let V8 optimise before measuring
  const rates: number[] = [];
  const rounds = Math.max(3, Math.round(seconds / 0.5));
  for (let round = 0; round < rounds; round++) {
    let count = 0;
    const start = process.hrtime.bigint();
    let wall = 0;
    while (wall < seconds / rounds) {
      count += body();
      wall = Number(process.hrtime.bigint() - start) / 1e9;
    }
    rates.push(count / wall);
  }
  rates.sort((a, b) => a - b);
  const timing = {
    perSecond: rates[Math.floor(rates.length / 2)]!,
    low: rates[0]!,
    high: rates[rates.length - 1]!,
  };
  process.stderr.write(
    `  ${label}: median ${Math.round(timing.perSecond)}/s over ${rounds} rounds (${Math.round(timing.low)}–${Math.round(timing.high)})\n`,
  );
  return timing;
}

/** "12,345 (11,000–13,000)" */
function rate(timing: Timing, unit: string): string {
  const f = (x: number) => Math.round(x).toLocaleString('en');
  return `${f(timing.perSecond)} ${unit} (${f(timing.low)}–${f(timing.high)})`;
}

function steadyStateBenchmark() {
  const model = compilePlant(loadRecipe(join(root, 'recipes', 'benchmark-5x4.yaml')));
  const step = model.steps[0]!;
  // A grid of operating points: the benchmark must not be a cache hit.
  const grid: StepConditions[] = [];
  for (const jacketTemperature of [40, 50, 60, 70, 80]) {
    for (const flow of [1, 2.5, 5])
      grid.push({ jacketTemperature, flows: { 'P-101': flow, 'P-102': flow } });
  }
  let worstRelative = 0;
  let worstAbsolute = 0;
  for (const conditions of grid) {
    const reference = Float64Array.from(
      solveStepOutlet(model, step, conditions, { rtol: 1e-12, atol: 1e-15 }).outlet.concentrations,
    );
    const fast = solveStepOutlet(model, step, conditions).outlet.concentrations;
    for (let i = 0; i < reference.length; i++) {
      const error = Math.abs(fast[i]! - reference[i]!);
      // Relative where the concentration is above 1e-5 M, absolute below.
      if (Math.abs(reference[i]!) > 1e-5)
        worstRelative = Math.max(worstRelative, error / Math.abs(reference[i]!));
      else worstAbsolute = Math.max(worstAbsolute, error);
    }
  }
  const solution = solveStepOutlet(model, step, grid[0]!);
  const result = timeIt('steady state', () => {
    for (const conditions of grid) solveStepOutlet(model, step, conditions, {}, solution);
    return grid.length;
  });
  return { ...result, worstRelative, worstAbsolute };
}

/**
 * The reference plant as training sees it: disturbances moving every state (the 'combined'
 * scenario), so no cached rate constant survives from one step to the next; and at rest at
 * nominal setpoints for comparison.
 */
function plantBenchmark(scenarioName: 'combined' | 'nominal') {
  const model = compilePlant(loadRecipe(join(root, 'recipes', 'paracetamol.yaml')));
  const scenario = buildScenario(scenarioName, model, 1, 400_000);
  const plant = new Plant(model, { dt: 1, seed: 1, scenario });
  plant.warmUp(3600);
  return timeIt(`reference plant (${scenarioName}), dt = 1 s`, () => {
    plant.run(10_000);
    plant.drainEvents();
    return 10_000;
  });
}

function singleStepBenchmark() {
  const model = compilePlant(loadRecipe(join(root, 'recipes', 'paracetamol.yaml')));
  return model.steps.map((step) => {
    const plant = new Plant(model, { dt: 10, seed: 1 });
    const unit = plant.units[step.index]!;
    const delivered = new Float64Array(unit.flow.length);
    // Tank-fed steps see the composition the upstream step delivers at steady state.
    const tanks = model.tanks.map(() => undefined as Float64Array | undefined);
    const upstream = new Plant(model, { dt: 10 });
    upstream.warmUp(7200);
    model.tanks.forEach(
      (tank, i) => (tanks[i] = Float64Array.from(upstream.tank(tank.id).concentrations)),
    );
    const feeds = model.feeds.map((f) => f.concentrations);
    const result = timeIt(`step ${step.id}, dt = 10 s`, () => {
      for (let i = 0; i < 10_000; i++) {
        unit.updateActuators();
        unit.deliveredFlows(delivered);
        unit.advance(delivered, feeds, tanks);
      }
      return 10_000;
    });
    return { step: step.id, ...result };
  });
}

/**
 * A fixed pure-JavaScript workload (sparse stoichiometric accumulation), timed so that runs
 * on a machine whose speed drifts can be compared: 37–40 ns per call measured on the
 * development machine when it was quiet, above 80 ns when a neighbour loaded it.
 */
const REFERENCE = {
  start: Int32Array.of(0, 3, 5, 9, 13),
  species: Int32Array.of(0, 1, 2, 2, 3, 0, 4, 0, 2, 4, 1, 1, 1),
  nu: Float64Array.of(-1, -1, 1, -1, 1, -2, 1, -1, -1, 1, 1, 1, 1),
  rates: Float64Array.of(0.1, 0.2, 0.3, 0.4),
  out: new Float64Array(5),
};

function referenceCall(scale: number): void {
  const { start, species, nu, rates, out } = REFERENCE;
  for (let j = 0; j < 4; j++) {
    const r = rates[j]! * scale;
    if (r === 0) continue;
    for (let p = start[j]!, end = start[j + 1]!; p < end; p++) out[species[p]!]! += nu[p]! * r;
  }
}

function referenceLoop(): number {
  const calls = 10_000_000;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const begin = process.hrtime.bigint();
    for (let call = 0; call < calls; call++) referenceCall(1);
    best = Math.min(best, Number(process.hrtime.bigint() - begin) / calls);
  }
  return best;
}

function main(): void {
  process.stderr.write(
    `pipac twin benchmark (Node ${process.version}, ${seconds} s per measurement)\n`,
  );
  console.log(
    `machine: reference loop ${referenceLoop().toFixed(1)} ns per call (37–40 ns when this 2-core VM is quiet)`,
  );
  console.log(
    'figure                                            median (slowest–fastest round)   target              ',
  );
  const steady = steadyStateBenchmark();
  const plant = plantBenchmark('combined');
  const resting = plantBenchmark('nominal');
  const single = singleStepBenchmark();
  const rows: [string, string, string, string][] = [
    [
      'steady-state PFR 5 species × 4 reactions',
      rate(steady, '/s'),
      '≥ 50,000 /s',
      steady.perSecond >= 50_000 ? 'met' : 'NOT MET',
    ],
    [
      '  worst error vs rtol 1e-12 reference',
      `${steady.worstRelative.toExponential(1)} rel, ${steady.worstAbsolute.toExponential(1)} M abs`,
      '≤ 1e-4 rel, 1e-9 M',
      steady.worstRelative <= 1e-4 && steady.worstAbsolute <= 1e-9 ? 'met' : 'NOT MET',
    ],
    [
      'reference plant, disturbed, dt 1 s (× real time)',
      rate(plant, '×'),
      '≥ 100,000 ×',
      plant.perSecond >= 100_000 ? 'met' : 'NOT MET',
    ],
    ['  the same at rest at nominal setpoints', rate(resting, '×'), '', ''],
    ...single.map((s): [string, string, string, string] => [
      `one step (${s.step}), dt 10 s`,
      rate(s, 'steps/s'),
      '≥ 50,000 /s',
      s.perSecond >= 50_000 ? 'met' : 'NOT MET',
    ]),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
}

main();
