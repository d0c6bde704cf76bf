import { eFactor, stepFigures, type StepFigures } from '../figures/key-figures';
import { pressureDrop } from '../model/hydraulics';
import {
  type PlantModel,
  type StepModel,
  stepById,
  ZERO_CELSIUS,
  celsiusToKelvin,
  kelvinToCelsius,
} from '@pipac/recipe';
import { stepLimitViolations } from '../safety/limits';
import { ConditionsError } from './conditions.error';
import { createMixedInlet, mixInlets } from './inlet-mixer';
import { ReactorSolver, type ReactorOutlet } from './reactor-solver';
import type {
  PlantConditions,
  PlantSteadyState,
  SolverOptions,
  StepConditions,
  StepSteadyState,
} from './steady-state.types';

// Measured on benchmark-5x4 against rtol 1e-12 (npm run bench:twin): worst outlet error about
// 4e-6 relative, under 0.1 of the 1e-4 relative + 1e-9 M the twin promises.
const DEFAULT_RTOL = 1e-6;
const DEFAULT_ATOL = 1e-10;

/** Solvers are cached per compiled step: their buffers are reused across calls. */
const solvers = new WeakMap<StepModel, ReactorSolver>();

function solverFor(model: PlantModel, step: StepModel): ReactorSolver {
  let solver = solvers.get(step);
  if (!solver) {
    solver = new ReactorSolver(step, model.speciesIds.length);
    solvers.set(step, solver);
  }
  return solver;
}

const nominalFeeds = new WeakMap<PlantModel, Float64Array[]>();
function feedConcentrations(model: PlantModel): Float64Array[] {
  let feeds = nominalFeeds.get(model);
  if (!feeds) {
    feeds = model.feeds.map((f) => f.concentrations);
    nominalFeeds.set(model, feeds);
  }
  return feeds;
}

/** The outlet of one step at steady state, internal units (the fast path used by benchmarks and the oracle). */
export interface StepSolution {
  inlet: ReturnType<typeof createMixedInlet>;
  outlet: ReactorOutlet;
  flows: Float64Array;
  jacketTemperature: number;
  backPressure: number;
}

/**
 * A solved step's conversion of its key reactant and its product made, mol/s (inlet flow ×
 * the product's concentration gain), from `solveStepOutlet`'s arrays.
 */
export function stepOutletFigures(
  step: StepModel,
  solution: StepSolution,
): { conversion: number; product: number } {
  const { inlet, outlet } = solution;
  const keyIn = inlet.concentrations[step.keyIndex]!;
  return {
    conversion: keyIn > 0 ? 1 - outlet.concentrations[step.keyIndex]! / keyIn : 0,
    product:
      inlet.flow *
      (outlet.concentrations[step.productIndex]! - inlet.concentrations[step.productIndex]!),
  };
}

/**
 * Solves one step at steady state and returns internal-unit arrays (no object maps), for
 * callers that evaluate many conditions: the benchmark, calibration, the oracle.
 */
export function solveStepOutlet(
  model: PlantModel,
  step: StepModel,
  conditions: StepConditions,
  options: SolverOptions = {},
  into?: StepSolution,
): StepSolution {
  const n = model.speciesIds.length;
  const solution: StepSolution = into ?? {
    inlet: createMixedInlet(n),
    outlet: {
      concentrations: new Float64Array(n),
      temperature: 0,
      maxTemperature: 0,
      mtsr: 0,
      heatDuty: 0,
    },
    flows: new Float64Array(step.inlets.length),
    jacketTemperature: 0,
    backPressure: 0,
  };
  checkConditions(step, conditions);
  // A buffer reused across steps must fit this step's pumps.
  if (solution.flows.length !== step.inlets.length)
    solution.flows = new Float64Array(step.inlets.length);
  for (let k = 0; k < step.inlets.length; k++) {
    const inlet = step.inlets[k]!;
    const flow = conditions.flows?.[inlet.pump];
    solution.flows[k] = flow ?? inlet.nominal;
  }
  const tankConcentrations = model.tanks.map((tank) => {
    const composition = conditions.tankCompositions?.[tank.id];
    return composition
      ? speciesVector(model, composition, `tankCompositions.${tank.id}`)
      : undefined;
  });
  let feeds = feedConcentrations(model);
  if (conditions.feedConcentrations) {
    feeds = feeds.map((nominal, f) => {
      const composition = conditions.feedConcentrations?.[model.feeds[f]!.id];
      return composition
        ? speciesVector(model, composition, `feedConcentrations.${model.feeds[f]!.id}`)
        : nominal;
    });
    requireFeeds(model, step, 'feedConcentrations', conditions.feedConcentrations);
  }
  const feedTemperatures = conditions.feedTemperatures
    ? model.feeds.map((feed) => {
        const celsius = conditions.feedTemperatures?.[feed.id];
        return celsius === undefined ? feed.temperature : celsiusToKelvin(celsius);
      })
    : undefined;
  requireFeeds(model, step, 'feedTemperatures', conditions.feedTemperatures ?? {});
  mixInlets(
    model,
    step,
    solution.flows,
    feeds,
    tankConcentrations,
    solution.inlet,
    feedTemperatures,
  );
  solution.jacketTemperature = celsiusToKelvin(
    conditions.jacketTemperature ?? step.thermostat.nominal,
  );
  solution.backPressure = conditions.backPressure ?? step.backPressure.nominal;
  const activity = step.catalyst
    ? (conditions.catalystActivity ?? step.catalyst.initialActivity)
    : 1;
  const reactor = {
    inlet: solution.inlet.concentrations,
    inletTemperature: solution.inlet.temperature,
    jacketTemperature: solution.jacketTemperature,
    flow: solution.inlet.flow,
    rateMultiplier: activity * (conditions.rateMultiplier ?? 1),
    heatTransferFactor: conditions.heatTransferFactor ?? 1,
    rtol: options.rtol ?? DEFAULT_RTOL,
    atol: options.atol ?? DEFAULT_ATOL,
  };
  const solver = solverFor(model, step);
  if (step.type === 'cstr') solver.stirredCells(reactor, 1, solution.outlet);
  else if (options.model === 'cells') solver.stirredCells(reactor, step.cells, solution.outlet);
  else solver.plugFlow(reactor, solution.outlet);
  return solution;
}

/** Refuses conditions that are not numbers, or name a pump the step does not have. */
/** Refuses a condition keyed by a feed the recipe does not have, naming the condition. */
function requireFeeds(
  model: PlantModel,
  step: StepModel,
  field: 'feedConcentrations' | 'feedTemperatures',
  byFeed: Record<string, unknown>,
): void {
  for (const id of Object.keys(byFeed)) {
    if (!model.feeds.some((feed) => feed.id === id))
      throw new ConditionsError(`${step.id}.${field}.${id}: unknown feed`);
  }
}

function checkConditions(step: StepModel, conditions: StepConditions): void {
  const bad = (field: string, value: unknown) => {
    throw new ConditionsError(`${step.id}.${field}: ${String(value)} is not a finite number`);
  };
  for (const [pump, flow] of Object.entries(conditions.flows ?? {})) {
    if (!step.inlets.some((inlet) => inlet.pump === pump)) {
      throw new ConditionsError(
        `${step.id}.flows.${pump}: the step has no such pump (${step.inlets.map((i) => i.pump).join(', ')})`,
      );
    }
    if (!Number.isFinite(flow)) bad(`flows.${pump}`, flow);
  }
  if (conditions.jacketTemperature !== undefined && conditions.jacketTemperature <= -ZERO_CELSIUS) {
    throw new ConditionsError(
      `${step.id}.jacketTemperature: ${conditions.jacketTemperature} °C is at or below absolute zero`,
    );
  }
  for (const [feed, celsius] of Object.entries(conditions.feedTemperatures ?? {})) {
    if (!Number.isFinite(celsius) || celsius <= -ZERO_CELSIUS)
      throw new ConditionsError(
        `${step.id}.feedTemperatures.${feed}: ${celsius} °C is not a temperature`,
      );
  }
  const scalars = [
    'jacketTemperature',
    'backPressure',
    'catalystActivity',
    'rateMultiplier',
    'heatTransferFactor',
  ] as const;
  for (const field of scalars) {
    const value = conditions[field];
    if (value !== undefined && !Number.isFinite(value)) bad(field, value);
  }
}

/** Steady state of one step at the given conditions, with its key figures and safety quantities. */
export function solveStepSteadyState(
  model: PlantModel,
  stepId: string,
  conditions: StepConditions = {},
  options: SolverOptions = {},
): StepSteadyState {
  const step = stepById(model, stepId);
  const solution = solveStepOutlet(model, step, conditions, options);
  return describeStep(model, step, solution);
}

/** The key figures of a solved step (`solveStepOutlet`'s arrays), as `stepFigures` defines them. */
export function solutionFigures(
  model: PlantModel,
  step: StepModel,
  solution: StepSolution,
): StepFigures {
  const { inlet, outlet } = solution;
  const q = inlet.flow;
  return stepFigures(model, step, {
    keyIn: q * inlet.concentrations[step.keyIndex]!,
    keyOut: q * outlet.concentrations[step.keyIndex]!,
    productIn: q * inlet.concentrations[step.productIndex]!,
    productOut: q * outlet.concentrations[step.productIndex]!,
    massIn: inlet.massFlow,
    heatDuty: outlet.heatDuty,
    thermalPower: Math.abs(outlet.heatDuty),
  });
}

function describeStep(model: PlantModel, step: StepModel, solution: StepSolution): StepSteadyState {
  const { inlet, outlet } = solution;
  const q = inlet.flow;
  const solver = solverFor(model, step);
  const figures = solutionFigures(model, step, solution);
  const drop = pressureDrop(step, q);
  const safety = {
    adiabaticTemperatureRise: solver.adiabaticRise(inlet.concentrations[step.keyIndex]!),
    maxTemperature: kelvinToCelsius(outlet.maxTemperature),
    mtsr: kelvinToCelsius(outlet.mtsr),
    pressure: solution.backPressure + drop,
    pressureDrop: drop,
  };
  return {
    step: step.id,
    outletFlow: q * 60_000,
    inlet: toRecord(model, inlet.concentrations),
    outlet: toRecord(model, outlet.concentrations),
    outletTemperature: kelvinToCelsius(outlet.temperature),
    residenceTime: q > 0 ? step.liquidVolume / q : Number.POSITIVE_INFINITY,
    figures,
    safety,
    violations: stepLimitViolations(step, {
      maxTemperature: outlet.maxTemperature,
      mtsr: outlet.mtsr,
      pressure: safety.pressure,
      flows: solution.flows,
      jacketTemperature: solution.jacketTemperature,
      backPressure: solution.backPressure,
    }),
  };
}

/**
 * Steady state of the whole plant: steps in flow order, each tank passing on the
 * composition of the step that fills it (a well-mixed tank at steady state holds its
 * inflow's composition). Tank levels are steady only where inflow equals outflow;
 * `tankNetInflow` says how far each is from that.
 */
export function solvePlantSteadyState(
  model: PlantModel,
  conditions: PlantConditions = {},
  options: SolverOptions = {},
): PlantSteadyState {
  const tankCompositions: Record<string, Record<string, number>> = {};
  const tankNet: Record<string, number> = Object.fromEntries(model.tanks.map((t) => [t.id, 0]));
  const steps: StepSteadyState[] = [];
  let freshMass = 0;
  let thermalPower = 0;
  let firstKeyIn = 0;
  for (const step of model.steps) {
    const stepConditions = { ...conditions.steps?.[step.id] };
    stepConditions.tankCompositions = { ...tankCompositions, ...stepConditions.tankCompositions };
    const solution = solveStepOutlet(model, step, stepConditions, options);
    const result = describeStep(model, step, solution);
    steps.push(result);
    freshMass += solution.inlet.freshMassFlow;
    thermalPower += result.figures.thermalPower;
    if (step.index === 0)
      firstKeyIn = solution.inlet.flow * solution.inlet.concentrations[step.keyIndex]!;
    for (const [k, inlet] of step.inlets.entries()) {
      if (inlet.source === 'tank') {
        const tank = model.tanks[inlet.sourceIndex]!;
        tankNet[tank.id]! -= Math.max(0, solution.flows[k]!) * inlet.toInternal * 3600;
      }
    }
    if (step.outletTank >= 0) {
      const tank = model.tanks[step.outletTank]!;
      tankCompositions[tank.id] = result.outlet;
      tankNet[tank.id]! += solution.inlet.flow * 3600;
    }
  }
  // The plant product leaves from the steps that deliver to collection (no outlet tank).
  let productMolar = 0;
  for (const [index, step] of model.steps.entries()) {
    if (step.outletTank >= 0) continue;
    const result = steps[index]!;
    const q = result.outletFlow / 60_000;
    productMolar += q * (result.outlet[model.speciesIds[model.productIndex]!] ?? 0);
  }
  const productMass = (productMolar * model.molarMass[model.productIndex]!) / 1000; // kg/s
  const totalVolume = model.steps.reduce((sum, s) => sum + s.reactorVolume, 0);
  const productionRate = productMass * 1000 * 3600;
  return {
    steps,
    tankNetInflow: tankNet,
    figures: {
      overallYield: firstKeyIn > 0 ? productMolar / firstKeyIn : 0,
      productionRate,
      spaceTimeYield: productionRate / 1000 / totalVolume,
      eFactor: eFactor(freshMass, productMass),
      thermalPower,
    },
    violations: steps.flatMap((s) => s.violations),
  };
}

/** Concentrations by species id as a vector over the model's species. */
function speciesVector(
  model: PlantModel,
  composition: Record<string, number>,
  field: string,
): Float64Array {
  const c = new Float64Array(model.speciesIds.length);
  for (const [id, value] of Object.entries(composition)) {
    const i = model.speciesIndex.get(id);
    if (i === undefined) throw new ConditionsError(`${field}.${id}: unknown species`);
    c[i] = value;
  }
  return c;
}

function toRecord(model: PlantModel, values: Float64Array): Record<string, number> {
  const record: Record<string, number> = {};
  for (let i = 0; i < model.speciesIds.length; i++) record[model.speciesIds[i]!] = values[i]!;
  return record;
}
