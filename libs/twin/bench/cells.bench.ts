/**
 * Speed of the twin's own steady state (the tanks-in-series `cells` model, StepUnit's fixed
 * point) per step of the reference plant: Newton per cell against the time march alone,
 * side by side in one run, with their worst disagreement. A script, not a test.
 * Run with `npx nx run twin:bench-cells` (BENCH_SECONDS, default 1.5, per measurement).
 */
import { join } from 'node:path';
import { compilePlant, loadRecipe, type PlantModel, type StepModel } from '@pipac/recipe';
import { Plant, solveStepOutlet, type StepConditions } from '../src/index';
import {
  ReactorSolver,
  type ReactorConditions,
  type ReactorOutlet,
} from '../src/lib/steady/reactor-solver';

const root = join(__dirname, '..', '..', '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 1.5);

/** 8 flows (0.6–1.4 × nominal) × 8 jackets (nominal ± 10 °C), catalyst activity 0.7. */
function conditionGrid(model: PlantModel, step: StepModel): StepConditions[] {
  const plant = new Plant(model, { dt: 1, seed: 1 });
  plant.warmUp(600);
  const tankCompositions = Object.fromEntries(
    model.tanks.map((t) => [
      t.id,
      Object.fromEntries(model.speciesIds.map((s, i) => [s, plant.tank(t.id).concentrations[i]!])),
    ]),
  );
  const grid: StepConditions[] = [];
  for (let a = 0; a < 8; a++) {
    for (let b = 0; b < 8; b++) {
      const scale = 0.6 + (0.8 * a) / 7;
      grid.push({
        flows: Object.fromEntries(step.inlets.map((i) => [i.pump, i.nominal * scale])),
        jacketTemperature: step.thermostat.nominal - 10 + (20 * b) / 7,
        tankCompositions,
        ...(step.catalyst ? { catalystActivity: 0.7 } : {}),
      });
    }
  }
  return grid;
}

/** The reactor conditions solveStepOutlet builds (mixing included), to time the cells alone. */
function reactorConditions(model: PlantModel, step: StepModel, grid: StepConditions[]) {
  return grid.map((c): ReactorConditions => {
    const s = solveStepOutlet(model, step, c);
    return {
      inlet: Float64Array.from(s.inlet.concentrations),
      inletTemperature: s.inlet.temperature,
      jacketTemperature: s.jacketTemperature,
      flow: s.inlet.flow,
      rateMultiplier: c.catalystActivity ?? 1,
      heatTransferFactor: 1,
      rtol: 1e-6,
      atol: 1e-10,
    };
  });
}

function solvesPerSecond(solve: () => void, count: number): number {
  solve();
  const start = process.hrtime.bigint();
  let done = 0;
  let wall = 0;
  while (wall < seconds) {
    solve();
    done += count;
    wall = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return done / wall;
}

function outlet(n: number): ReactorOutlet {
  return {
    concentrations: new Float64Array(n),
    temperature: 0,
    maxTemperature: 0,
    mtsr: 0,
    heatDuty: 0,
  };
}

function benchStep(model: PlantModel, step: StepModel): string[] {
  const n = model.speciesIds.length;
  const conditions = reactorConditions(model, step, conditionGrid(model, step));
  const newton = new ReactorSolver(step, n);
  const march = new ReactorSolver(step, n, { method: 'march' });
  const a = outlet(n);
  const b = outlet(n);
  let worst = 0;
  for (const c of conditions) {
    newton.stirredCells(c, step.cells, a);
    march.stirredCells(c, step.cells, b);
    const scale = c.inlet[step.keyIndex]! || 1;
    for (let i = 0; i < n; i++)
      worst = Math.max(worst, Math.abs(a.concentrations[i]! - b.concentrations[i]!) / scale);
    worst = Math.max(worst, Math.abs(a.maxTemperature - b.maxTemperature) / b.maxTemperature);
  }
  const fallbacks = newton.fallbacks / (conditions.length * step.cells);
  const run = (solver: ReactorSolver) => () => {
    for (const c of conditions) solver.stirredCells(c, step.cells, a);
  };
  const fast = solvesPerSecond(run(newton), conditions.length);
  const slow = solvesPerSecond(run(march), conditions.length);
  const f = (x: number) => Math.round(x).toLocaleString('en');
  return [
    `${step.id} (${step.cells} cells)`,
    `${f(slow)} /s`,
    `${f(fast)} /s`,
    `${(fast / slow).toFixed(0)}×`,
    worst.toExponential(1),
    `${(100 * fallbacks).toFixed(1)} %`,
  ];
}

function main(): void {
  const model = compilePlant(loadRecipe(join(root, 'recipes', 'paracetamol.yaml')));
  const rows = [
    ['step', 'time march (old)', 'Newton (new)', 'speed-up', 'worst |Δ|', 'cells falling back'],
    ...model.steps.map((step) => benchStep(model, step)),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`cells steady state, 64 conditions per step, ${seconds} s per measurement`);
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  console.log('worst |Δ|: outlet concentrations over the key reactant in, hot spot relative');
}

main();
