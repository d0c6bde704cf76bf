import { join } from 'node:path';
import {
  celsiusToKelvin,
  compilePlant,
  GAS_CONSTANT,
  loadRecipe,
  type PlantModel,
  type ReactionSpec,
  type StepModel,
} from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { CellNewton } from './cell-newton';
import { CellEquations } from './stirred-cell';
import { solveStepOutlet, solveStepSteadyState } from './steady-state';
import type { StepConditions } from './steady-state.types';
import {
  ReactorSolver,
  type CellSolverOptions,
  type ReactorConditions,
  type ReactorOutlet,
} from './reactor-solver';

const RECIPES = join(__dirname, '../../../../../recipes');
/** Agreement asked of Newton against the time march, relative. */
const AGREEMENT = 1e-9;

const recipes = ['paracetamol.yaml', 'first-order-pfr.yaml'].map((file) => ({
  file,
  model: compilePlant(loadRecipe(join(RECIPES, file))),
}));
const steps = recipes.flatMap(({ file, model }) =>
  model.steps.map((step) => ({ name: `${file} ${step.id}`, model, step })),
);

/**
 * Flows 0.6–1.4 × nominal, jacket nominal ± 10 °C, and a catalyst activity (or, without a
 * catalyst, a rate multiplier) below 1. Tank-fed inlets see the upstream steps' outlets.
 */
function conditionGrid(model: PlantModel, step: StepModel): StepConditions[] {
  const tankCompositions = upstreamTanks(model);
  const grid: StepConditions[] = [];
  for (const scale of [0.6, 1, 1.4]) {
    for (const dT of [-10, 0, 10]) {
      for (const weaker of [false, true]) {
        grid.push({
          flows: Object.fromEntries(step.inlets.map((i) => [i.pump, i.nominal * scale])),
          jacketTemperature: step.thermostat.nominal + dT,
          tankCompositions,
          ...(weaker && (step.catalyst ? { catalystActivity: 0.7 } : { rateMultiplier: 0.7 })),
        });
      }
    }
  }
  return grid;
}

function upstreamTanks(model: PlantModel): Record<string, Record<string, number>> {
  const tanks: Record<string, Record<string, number>> = {};
  for (const step of model.steps) {
    const outlet = solveStepSteadyState(model, step.id, { tankCompositions: tanks }).outlet;
    if (step.outletTank >= 0) tanks[model.tanks[step.outletTank]!.id] = outlet;
  }
  return tanks;
}

/** What solveStepOutlet hands the reactor solver for these conditions. */
function reactorConditions(
  model: PlantModel,
  step: StepModel,
  conditions: StepConditions,
): ReactorConditions {
  const solution = solveStepOutlet(model, step, conditions);
  const activity = step.catalyst ? (conditions.catalystActivity ?? 1) : 1;
  return {
    inlet: Float64Array.from(solution.inlet.concentrations),
    inletTemperature: solution.inlet.temperature,
    jacketTemperature: solution.jacketTemperature,
    flow: solution.inlet.flow,
    rateMultiplier: activity * (conditions.rateMultiplier ?? 1),
    heatTransferFactor: 1,
    rtol: 1e-6,
    atol: 1e-10,
  };
}

function solveCells(
  step: StepModel,
  n: number,
  conditions: ReactorConditions,
  options: CellSolverOptions,
): { outlet: ReactorOutlet; solver: ReactorSolver } {
  const solver = new ReactorSolver(step, n, options);
  const outlet: ReactorOutlet = {
    concentrations: new Float64Array(n),
    temperature: 0,
    maxTemperature: 0,
    mtsr: 0,
    heatDuty: 0,
  };
  solver.stirredCells(conditions, step.cells, outlet);
  return { outlet, solver };
}

/** The largest disagreement, each quantity relative to its own scale. */
function disagreement(
  step: StepModel,
  conditions: ReactorConditions,
  a: ReactorOutlet,
  b: ReactorOutlet,
): number {
  // Concentrations against the key reactant fed (a consumed species has no scale of its own).
  const keyIn = conditions.inlet[step.keyIndex]!;
  let worst = 0;
  for (let i = 0; i < a.concentrations.length; i++) {
    const scale = Math.max(Math.abs(b.concentrations[i]!), keyIn);
    worst = Math.max(worst, Math.abs(a.concentrations[i]! - b.concentrations[i]!) / scale);
  }
  for (const field of ['temperature', 'maxTemperature', 'mtsr'] as const)
    worst = Math.max(worst, Math.abs(a[field] - b[field]) / b[field]);
  // The duty is a sum of UA·(Tj − T): its scale is UA times a kelvin of the jacket's.
  const dutyScale = step.heatTransfer * conditions.jacketTemperature;
  return Math.max(worst, Math.abs(a.heatDuty - b.heatDuty) / dutyScale);
}

describe('cells steady state: Newton per cell against the time march', () => {
  it.each(steps)(
    '$name: agrees within 1e-9 over flows, jackets and activity',
    ({ model, step }) => {
      const n = model.speciesIds.length;
      let worst = 0;
      let fallbacks = 0;
      for (const grid of conditionGrid(model, step)) {
        const conditions = reactorConditions(model, step, grid);
        const newton = solveCells(step, n, conditions, {});
        const march = solveCells(step, n, conditions, { method: 'march' });
        worst = Math.max(worst, disagreement(step, conditions, newton.outlet, march.outlet));
        fallbacks += newton.solver.fallbacks;
      }
      expect(worst).toBeLessThan(AGREEMENT);
      // The fast path is the one taken on this grid.
      expect(fallbacks).toBe(0);
    },
  );

  it('a cell Newton cannot finish in its iterations falls back to the march, same answer', () => {
    const { model, step } = steps[0]!;
    const n = model.speciesIds.length;
    const conditions = reactorConditions(model, step, conditionGrid(model, step)[0]!);
    const march = solveCells(step, n, conditions, { method: 'march' });
    const none = solveCells(step, n, conditions, { newtonIterations: 0 });
    expect(none.solver.fallbacks).toBe(step.cells);
    expect(none.outlet).toEqual(march.outlet);
    const one = solveCells(step, n, conditions, { newtonIterations: 1 });
    expect(one.solver.fallbacks).toBeGreaterThan(0);
    expect(disagreement(step, conditions, one.outlet, march.outlet)).toBeLessThan(AGREEMENT);
  });

  it('NaN input is refused before any cell is solved', () => {
    const { model, step } = steps[0]!;
    const pump = step.inlets[0]!.pump;
    expect(() =>
      solveStepOutlet(model, step, { flows: { [pump]: Number.NaN } }, { model: 'cells' }),
    ).toThrow(pump);
    expect(() =>
      solveStepOutlet(model, step, { jacketTemperature: Number.NaN }, { model: 'cells' }),
    ).toThrow(/jacketTemperature/);
  });
});

describe('CellNewton on an ignition S-curve', () => {
  // An adiabatic stirred tank, A → B with ΔTad 200 K and Ea 100 kJ/mol: three steady states
  // (X ≈ 6e-4, the unstable middle one, and X ≈ 1).
  const reaction: ReactionSpec = {
    id: 'a-to-b-ignites',
    stoichiometry: { a: -1, b: 1 },
    rateLaw: {
      k: { value: 1e-6, referenceTemperature: 25 },
      activationEnergy: 100,
      orders: { a: 1 },
    },
    heatOfReaction: -800,
  };
  const model = compilePlant(
    oneStepRecipe({ reactions: [reaction], reactor: { type: 'cstr', heatTransfer: 1e-9 } }),
  );
  const step = model.steps[0]!;
  const tau = 600; // s: 10 mL at 1 mL/min
  const t0 = celsiusToKelvin(25);
  const k = (t: number) => 1e-6 * Math.exp((-100_000 / GAS_CONSTANT) * (1 / t - 1 / t0));
  /** Energy balance minus species balance along the adiabatic line T = T0 + 200·X. */
  const gap = (x: number) => x - (k(t0 + 200 * x) * tau) / (1 + k(t0 + 200 * x) * tau);

  function middleConversion(): number {
    // gap > 0 above the extinguished state (X ≈ 6e-4), < 0 below the ignited one (X ≈ 1).
    let low = 0.01;
    let high = 0.3;
    for (let i = 0; i < 200; i++) {
      const mid = (low + high) / 2;
      if (gap(mid) > 0) low = mid;
      else high = mid;
    }
    return low;
  }

  it('refuses the unstable middle state it converges to, so the march decides', () => {
    expect(gap(0.01)).toBeGreaterThan(0);
    expect(gap(0.3)).toBeLessThan(0);
    const n = model.speciesIds.length;
    const solver = new ReactorSolver(step, n);
    const equations = new CellEquations(solver.kernel, n, step.volumetricHeatCapacity);
    equations.set({
      inlet: Float64Array.from(model.feeds[0]!.concentrations),
      inletTemperature: t0,
      dilution: 1 / tau,
      uaPerVolume: 0,
      jacketTemperature: t0,
      multiplier: 1,
    });
    const x = middleConversion();
    const y = new Float64Array(n + 1);
    y.set(model.feeds[0]!.concentrations);
    y[step.keyIndex] = 1 - x + 1e-7;
    y[step.productIndex] = x - 1e-7;
    y[n] = t0 + 200 * x;
    expect(new CellNewton(equations, step.activeSpecies, n).solve(y, 1e-6, 1e-10)).toBe(false);
    // Near the extinguished state it converges and accepts.
    y.set(model.feeds[0]!.concentrations);
    y[n] = t0;
    expect(new CellNewton(equations, step.activeSpecies, n).solve(y, 1e-6, 1e-10)).toBe(true);
  });
});
