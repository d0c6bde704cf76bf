import {
  SafetyShield,
  StepObserver,
  StepSpace,
  nominalSteadyState,
  readStep,
} from '@pipac/control';
import { kelvinToCelsius, type PlantModel } from '@pipac/recipe';
import { Plant, SCENARIO_NAMES, SeededRandom, buildScenario, type Scenario } from '@pipac/twin';
import type { Env, EnvStep } from './env';

/** Domain randomisation: how far each episode's plant departs from the recipe. */
export interface Randomisation {
  /** Every step's rate constants × a factor drawn from this range (kinetic mismatch). @default [1, 1] */
  kineticMismatch?: [number, number];
  /** Scenarios an episode is drawn from. @default all named scenarios */
  scenarios?: readonly string[];
  /**
   * Each episode's scenario severity is drawn from this range (ScenarioOptions.severity: how
   * far beyond the realistic ranges its disturbances go). @default [1, 1], no draw
   */
  severity?: [number, number];
}

export interface StepEnvOptions {
  model: PlantModel;
  stepId: string;
  /** Seed of every draw: scenarios, targets, plant noise. */
  seed: number;
  /** Integration step, s (training may run coarser than evaluation). @default 2 */
  dt?: number;
  /** Control cycle, s. @default 60 */
  cycle?: number;
  /** Episode length, s. @default 14,400 (4 h) */
  episodeSeconds?: number;
  /** Warm-up before each episode, s. @default 1800 */
  warmUp?: number;
  /** Throughput targets are drawn from this range, a new one every 1–2 h. @default [0.7, 1.2] */
  targetRange?: [number, number];
  randomisation?: Randomisation;
  /**
   * Simulate every step of the plant, not only this one and those that reach it (the same run
   * for this step, bit for bit, at more cost; for comparisons). @default false
   */
  wholePlant?: boolean;
  /**
   * Integration step of the other steps it simulates, s (PlantOptions.upstreamDt): they hold
   * their recipe setpoints, so a coarse step loses little: at 60 s against the whole plant at
   * 2 s, 8 episodes of random moves on the reference plant paid within 0.003 % in total and
   * 0.001 of a nominal cycle's product per cycle (the specs bound it), for 2.4× the steps per
   * second on its last step. @default the control cycle (the largest multiple of dt within it)
   */
  upstreamDt?: number;
}

/** Weights of the reward terms (docs/agents.md, "Reward"). */
export const REWARD_WEIGHTS = {
  offSpec: 1,
  overTarget: 1,
  waste: 0.1,
  energy: 0.02,
  move: 0.05,
  limitProximity: 0.5,
  violation: 2,
} as const;

/** Kelvin below a temperature limit where the proximity penalty starts. */
const TEMPERATURE_BAND = 5;

/**
 * One reaction step of the twin as a reinforcement-learning environment. The plant is
 * simulated as far as it reaches this step (upstream tanks and steps as the recipe runs
 * them, at a coarser step, PlantOptions.upstreamDt; the steps downstream cannot affect it
 * and stand still, PlantOptions.focus); the agent moves its step's pumps and jacket through
 * the same safety shield as in the plant, once per control cycle.
 *
 * Observation: `StepSpace.observe` (conversion margin and trend, analyser age and health,
 * temperature and pressure margins, throughput target, setpoints, analyser concentrations).
 * Action: −1..1 per manipulated setpoint over the agent's range.
 * Reward per cycle, in units of the step's nominal product per cycle:
 *   + in-spec product, up to the throughput target
 *   − off-spec product
 *   − key reactant fed beyond the throughput target (throughput nobody ordered fills the
 *     next surge tank), relative to nominal
 *   − 0.1 × feed mass that did not become in-spec product (waste, relative to nominal feed)
 *   − 0.02 × thermal energy relative to nominal
 *   − 0.05 × mean squared action change (large moves)
 *   − 0.5 × squared closeness to the temperature and pressure limits (within 5 K / 10 %)
 *   − 2 per engineering-limit violation.
 * Everything is derived from the recipe, so every step of every plant gets an environment.
 */
export class StepEnv implements Env {
  readonly space: StepSpace;
  private readonly observer: StepObserver;
  readonly observationSize: number;
  readonly actionSize: number;
  private readonly random: SeededRandom;
  private readonly dt: number;
  private readonly cycle: number;
  private readonly upstreamDt: number;
  private readonly episodeSeconds: number;
  private readonly warmUpSeconds: number;
  private readonly targetRange: [number, number];
  private readonly scenarios: readonly string[];
  private readonly mismatch: [number, number];
  /** Nominal product and key reactant fed (mol), feed mass (kg) and thermal energy (J) per cycle. */
  private readonly nominal: { product: number; keyIn: number; mass: number; energy: number };
  private plant!: Plant;
  private shield!: SafetyShield;
  private scenario!: Scenario;
  private target = 1;
  private nextTargetChange = 0;
  private lastAction: Float32Array;
  private episodes = 0;

  constructor(private readonly options: StepEnvOptions) {
    this.space = new StepSpace(options.model, options.stepId);
    this.observer = new StepObserver(this.space);
    this.observationSize = this.space.observationSize;
    this.actionSize = this.space.actionSize;
    this.random = new SeededRandom(options.seed);
    this.dt = options.dt ?? 2;
    this.cycle = options.cycle ?? 60;
    this.upstreamDt = options.upstreamDt ?? Math.max(1, Math.floor(this.cycle / this.dt)) * this.dt;
    this.episodeSeconds = options.episodeSeconds ?? 14_400;
    this.warmUpSeconds = options.warmUp ?? 1800;
    this.targetRange = options.targetRange ?? [0.7, 1.2];
    this.scenarios = options.randomisation?.scenarios ?? SCENARIO_NAMES;
    this.mismatch = options.randomisation?.kineticMismatch ?? [1, 1];
    const steady = nominalSteadyState(options.model).steps[this.space.step.index]!;
    const molarMass = options.model.molarMass[this.space.step.productIndex]!;
    const key = options.model.speciesIds[this.space.step.keyIndex]!;
    this.nominal = {
      product: ((steady.figures.productionRate / 3600) * this.cycle) / molarMass,
      keyIn: ((steady.inlet[key] ?? 0) * steady.outletFlow * this.cycle) / 60_000,
      mass:
        (steady.figures.productionRate / 3600 / 1000) * (1 + steady.figures.eFactor) * this.cycle,
      energy: Math.max(steady.figures.thermalPower, 1) * this.cycle,
    };
    this.lastAction = new Float32Array(this.actionSize);
  }

  reset(): Float32Array {
    const { model } = this.options;
    const name = this.scenarios[Math.floor(this.random.uniform() * this.scenarios.length)]!;
    const seed = Math.floor(this.random.uniform() * 2 ** 31);
    const factor = this.random.between(this.mismatch[0], this.mismatch[1]);
    const range = this.options.randomisation?.severity;
    // Drawn only when asked for, so runs without it keep their random stream.
    const severity = range ? this.random.between(range[0], range[1]) : 1;
    const scenario = buildScenario(name, model, seed, this.episodeSeconds, { severity });
    if (factor !== 1) {
      scenario.disturbances.push(
        ...model.steps.map((step) => ({
          kind: 'kinetic-mismatch' as const,
          step: step.id,
          factor,
        })),
      );
    }
    this.scenario = scenario;
    const focus = this.options.wholePlant
      ? {}
      : { focus: this.options.stepId, upstreamDt: this.upstreamDt };
    this.plant = new Plant(model, { dt: this.dt, seed: seed + 1, scenario, ...focus });
    this.plant.warmUp(this.warmUpSeconds);
    this.shield = new SafetyShield({ setpoints: this.space.shieldLimits(), inputs: [] });
    this.target = 1;
    this.nextTargetChange = 0;
    this.updateTarget();
    this.lastAction = this.space.toAction(readStep(this.plant, this.space.step.index).setpoints);
    this.observer.reset();
    this.episodes++;
    return this.observe();
  }

  /** The scenario of the current episode (for logs and tests). */
  get currentScenario(): Scenario {
    return this.scenario;
  }

  get currentTarget(): number {
    return this.target;
  }

  step(action: Float32Array): EnvStep {
    const plant = this.plant;
    const unit = plant.units[this.space.step.index]!;
    const readings = readStep(plant, this.space.step.index, this.target);
    const decision = this.shield.decide({
      current: readings.setpoints,
      inputs: [],
      agent: this.space.toSetpoints(action),
      fallback: () => undefined,
    });
    for (const [tag, value] of Object.entries(decision.setpoints)) plant.setSetpoint(tag, value);
    const before = { ...unit.totals };
    plant.run(this.cycle);
    let violations = 0;
    for (const event of plant.drainEvents()) {
      if (event.kind === 'violation' && event.step === this.space.step.id) violations++;
    }
    const inSpec = unit.totals.productInSpec - before.productInSpec;
    const offSpec = unit.totals.productOffSpec - before.productOffSpec;
    const mass = unit.totals.massIn - before.massIn;
    const keyIn = unit.totals.keyIn - before.keyIn;
    const energy = unit.totals.thermalEnergy - before.thermalEnergy;
    const n = this.nominal;
    const inSpecShare = inSpec / n.product;
    let move = 0;
    for (let i = 0; i < action.length; i++) {
      const a = Math.max(-1, Math.min(1, action[i]!));
      move += (a - this.lastAction[i]!) ** 2;
      this.lastAction[i] = a;
    }
    move /= action.length;
    const step = this.space.step;
    const temperatureMargin =
      kelvinToCelsius(step.maxTemperature) - kelvinToCelsius(unit.maxTemperature);
    const pressureMargin = (step.maxPressure - unit.pressure) / step.maxPressure;
    const proximity =
      Math.max(0, 1 - temperatureMargin / TEMPERATURE_BAND) ** 2 +
      Math.max(0, 1 - pressureMargin / 0.1) ** 2;
    const w = REWARD_WEIGHTS;
    const reward =
      Math.min(inSpecShare, this.target) -
      w.offSpec * (offSpec / n.product) -
      w.overTarget * Math.max(0, keyIn / n.keyIn - this.target) -
      w.waste * Math.max(0, mass / n.mass - inSpecShare) -
      w.energy * (energy / n.energy) -
      w.move * move -
      w.limitProximity * proximity -
      w.violation * violations;
    this.updateTarget();
    const done = plant.time >= this.episodeSeconds;
    return {
      observation: this.observe(),
      reward,
      done,
      info: {
        inSpec: inSpecShare,
        offSpec: offSpec / n.product,
        violations,
        conversion: unit.conversion(),
      },
    };
  }

  private updateTarget(): void {
    const t = this.plant.time;
    if (t < this.nextTargetChange) return;
    const [low, high] = this.targetRange;
    // Half the episodes hold the nominal target throughout: the plant's everyday case.
    this.target = this.episodes % 2 === 0 ? 1 : this.random.between(low, high);
    this.nextTargetChange = t + this.random.between(3600, 7200);
  }

  private observe(): Float32Array {
    return this.observer.observe(readStep(this.plant, this.space.step.index, this.target));
  }
}
