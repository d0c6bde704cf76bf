import {
  ProcessLimitGuard,
  SafetyShield,
  StepSpace,
  readStep,
  type InputStatus,
  type StepController,
  type StepReadings,
} from '@pipac/control';
import { kelvinToCelsius, type PlantModel } from '@pipac/recipe';
import { Plant, summariseRun, type RunSummary, type Scenario } from '@pipac/twin';
import { RlError } from '../rl.error';
import { productValuation, type ProductValuation } from './product-value';
import { RunLedger, type RunScore } from './run-ledger';

/** How one step is run in a closed-loop run. */
export interface StepControl {
  controller: StepController;
  /** Held by the shield when the agent may not act (stale or bad analyser, failed policy). */
  fallback?: StepController;
  /** Clamp to the agent's narrower ranges (a trained agent), or only to the engineering ones. */
  agentLimits: boolean;
}

export interface ClosedLoopOptions {
  /** The twin: what the controllers, their shields and the score are set up on. */
  model: PlantModel;
  /**
   * The plant the loop runs, when it is not the twin (the reality gap: `realPlant`). The
   * controllers still see `model`. @default model
   */
  plantModel?: PlantModel;
  scenario: Scenario;
  /** Per step id; steps not named run the recipe's setpoints untouched. */
  control: (plant: Plant, spaces: StepSpace[]) => Record<string, StepControl>;
  /** Seed of the plant's noise. @default the scenario's */
  seed?: number;
  /** Integration step, s. @default 1 */
  dt?: number;
  /** Control cycle, s. @default 60 */
  cycle?: number;
  /** Warm-up at the recipe's setpoints before t = 0, s. @default 3600 */
  warmUp?: number;
  /** Key-reactant feed asked of each step, fraction of nominal, over time. @default 1 */
  throughputTarget?: (time: number, stepId: string) => number;
  /** Called after every cycle with the trace row (progress, plots). */
  onCycle?: (row: Record<string, number>) => void;
  /** The score's prices, when the caller has them already. @default productValuation(model) */
  valuation?: ProductValuation;
}

export interface StepOutcome {
  step: string;
  controller: string;
  /** g of the step's product made while its true conversion was at or above its minimum. */
  productInSpec: number;
  productOffSpec: number;
  /** Shield interventions (each change or refusal counts once) and fallback cycles. */
  interventions: number;
  fallbackCycles: number;
}

export interface ClosedLoopResult {
  scenario: string;
  summary: RunSummary;
  steps: StepOutcome[];
  /** In-spec product, inventory change and over-target feed: what the evaluation ranks by. */
  score: RunScore;
  /** Engineering-limit violations the plant reported (edge-triggered). */
  limitViolations: number;
  /** kWh of thermal energy (heating plus cooling) over the run. */
  energy: number;
  /** One row per cycle: t, per step conversion, flow scale, jacket, product. */
  trace: Record<string, number>[];
}

/** One step under control: its controller(s), its shield, and what it did. */
interface StepLoop {
  space: StepSpace;
  control: StepControl;
  shield: SafetyShield;
  outcome: StepOutcome;
  /** Set after the first cycle: the agent and its fallback start from the applied setpoints once. */
  started: boolean;
}

/**
 * Runs the twin under a scenario with one controller per step, each behind its own safety
 * shield, exactly as the step agents run the plant: read the sensors, decide, shield, write.
 * The yardstick of `pipac eval` and the selection stages of training.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { model, scenario } = options;
  const cycle = options.cycle ?? 60;
  const plant = new Plant(options.plantModel ?? model, {
    dt: options.dt ?? 1,
    seed: options.seed ?? scenario.seed,
    scenario,
  });
  plant.warmUp(options.warmUp ?? 3600);
  const spaces = model.steps.map((step) => new StepSpace(model, step.id));
  const loops = stepLoops(spaces, options.control(plant, spaces));
  const ledger = new RunLedger(plant, options.valuation ?? productValuation(model));
  const target = options.throughputTarget ?? (() => 1);
  const trace: Record<string, number>[] = [];
  let violations = 0;
  const cycles = Math.round(scenario.duration / cycle);
  for (let c = 0; c < cycles; c++) {
    for (const { step } of plant.units) ledger.ask(step.index, target(plant.time, step.id), cycle);
    for (const loop of loops) {
      const { step } = loop.space;
      await controlStep(loop, readStep(plant, step.index, target(plant.time, step.id)), plant);
    }
    plant.run(cycle);
    for (const event of plant.drainEvents()) if (event.kind === 'violation') violations++;
    const row = sample(plant);
    trace.push(row);
    options.onCycle?.(row);
  }
  return closedLoopResult(plant, loops, ledger, { scenario: scenario.name, violations, trace });
}

/** The loops of the steps `controls` names, each behind its own shield. */
function stepLoops(spaces: StepSpace[], controls: Record<string, StepControl>): StepLoop[] {
  return spaces
    .filter((space) => controls[space.step.id])
    .map((space) => {
      const control = controls[space.step.id]!;
      return {
        space,
        control,
        shield: shieldFor(space, control),
        started: false,
        outcome: {
          step: space.step.id,
          controller: control.controller.name,
          productInSpec: 0,
          productOffSpec: 0,
          interventions: 0,
          fallbackCycles: 0,
        } satisfies StepOutcome,
      };
    });
}

/** The step's shield: agent ranges for a trained agent, engineering ranges for a baseline. */
function shieldFor(space: StepSpace, control: StepControl): SafetyShield {
  const analyser = space.step.spec.analyser;
  return new SafetyShield({
    setpoints: space
      .shieldLimits()
      .map((limit) => (control.agentLimits ? limit : { ...limit, agent: limit.engineering })),
    // Only an agent with a fallback is gated: the baselines cope with stale data themselves.
    inputs:
      control.fallback && analyser
        ? [{ tag: analyser.tag, maxAge: analyser.deadTime + 3 * analyser.cadence }]
        : [],
    processLimits: new ProcessLimitGuard(space),
  });
}

/**
 * One control cycle of one step, wired as the step-agent service wires it (StepControllers):
 * both controllers start from the applied setpoints, the fallback is asked when the shield
 * needs it and otherwise still runs on the same readings, so it keeps integrating while the
 * agent acts and a hand-over is bumpless.
 */
async function controlStep(loop: StepLoop, readings: StepReadings, plant: Plant): Promise<void> {
  const { controller, fallback } = loop.control;
  if (fallback && !loop.started) {
    controller.reset(readings);
    fallback.reset(readings);
  }
  loop.started = true;
  const decision = loop.shield.decide({
    current: readings.setpoints,
    inputs: inputStatus(readings, loop.space),
    agent: await propose(controller, readings),
    fallback: () => decideNow(fallback, readings),
    // As the step agent: the process-limit check corrects its prediction by the measurements.
    measured: readings,
  });
  if (fallback && decision.source !== 'fallback') decideNow(fallback, readings);
  if (decision.source === 'fallback') loop.outcome.fallbackCycles++;
  loop.outcome.interventions += decision.interventions.filter(
    (i) => i.reason !== 'fallback-active',
  ).length;
  for (const [tag, value] of Object.entries(decision.setpoints)) plant.setSetpoint(tag, value);
}

/** The fallback's proposal; the baselines decide synchronously. */
function decideNow(
  fallback: StepController | undefined,
  readings: StepReadings,
): Record<string, number> | undefined {
  const proposal = fallback?.decide(readings);
  if (proposal instanceof Promise)
    throw new RlError('INVALID_CONFIG', 'a fallback controller must decide synchronously');
  return proposal;
}

/** The run's figures, per step outcomes and score at its end. */
function closedLoopResult(
  plant: Plant,
  loops: StepLoop[],
  ledger: RunLedger,
  run: { scenario: string; violations: number; trace: Record<string, number>[] },
): ClosedLoopResult {
  const summary = summariseRun(plant);
  for (const loop of loops) {
    const unit = plant.units[loop.space.step.index]!;
    const molarMass = plant.model.molarMass[loop.space.step.productIndex]!;
    loop.outcome.productInSpec = unit.totals.productInSpec * molarMass;
    loop.outcome.productOffSpec = unit.totals.productOffSpec * molarMass;
  }
  return {
    scenario: run.scenario,
    summary,
    steps: loops.map((l) => l.outcome),
    score: ledger.score(summary.plant.productInSpec),
    limitViolations: run.violations,
    energy: (summary.plant.thermalPower * plant.time) / 3.6e6,
    trace: run.trace,
  };
}

async function propose(
  controller: StepController,
  readings: StepReadings,
): Promise<Record<string, number> | Error> {
  try {
    return await controller.decide(readings);
  } catch (error) {
    return error instanceof Error
      ? error
      : new RlError('CONTROLLER_FAILED', String(error), { cause: error });
  }
}

function inputStatus(readings: StepReadings, space: StepSpace): InputStatus[] {
  const tag = space.step.spec.analyser?.tag;
  if (!tag || !readings.analyser) return [];
  return [
    {
      tag,
      quality: readings.analyser.quality,
      age: readings.time - readings.analyser.sampledAt,
    },
  ];
}

function sample(plant: Plant): Record<string, number> {
  const row: Record<string, number> = { t: plant.time };
  for (const unit of plant.units) {
    const id = unit.step.id;
    row[`${id}.conversion`] = unit.conversion();
    row[`${id}.flow_scale`] = unit.flow[0]! / unit.step.inlets[0]!.nominal;
    row[`${id}.jacket`] = kelvinToCelsius(unit.jacketTemperature);
    // In spec at this step and every step before it (what the score counts).
    row[`${id}.product_in_spec`] =
      unit.totals.productGood * plant.model.molarMass[unit.step.productIndex]!;
  }
  for (const tank of plant.model.tanks) row[`${tank.id}.level`] = plant.tank(tank.id).level;
  return row;
}
