import { kelvinToCelsius } from '@pipac/recipe';
import { ControlError } from '../control.error';
import type { StepController } from '../step/step-controller';
import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';
import { ProcessLimitGuard, type ProcessPrediction } from '../step/process-limit.guard';
import { solveBoxQp } from './box-qp';
import { InputHistory, lagResponse, type InputLag } from './input-history';
import { StepMpcEstimator, type EstimatorOptions } from './step-mpc.estimator';
import { StepMpcModel, type MpcParameter, type MpcParameters } from './step-mpc.model';
import { buildMpcProblem, type HorizonLayout, type LocalModel } from './step-mpc.problem';
import { identifyStepLags } from './step-lags';

export interface MpcOptions {
  /** g of final product per mol: of the step's key reactant, and of its product (the eval's valuation). */
  prices: { keyReactant: number; product: number };
  /** Control cycle, s. @default 60 */
  cycle?: number;
  /** Prediction horizon, cycles (≥ dead time + 4 τ of the slowest input with the analyser). @default 20 */
  horizon?: number;
  /** The cycles at which the blocked moves start; the last is held to the end. @default [0, 1, 3] */
  moves?: number[];
  /** Weight of the steady state after the horizon, in cycles. @default the horizon */
  terminalWeight?: number;
  /** Penalty of one full move of an input, in cycles of the nominal economic rate. @default 0.01 */
  movePenalty?: number;
  /** The conversion floor is minConversion + conversionMargin + coverage · σ(conversion). @default 2 */
  coverage?: number;
  /** @default 0.002 */
  conversionMargin?: number;
  /** Penalty of a conversion shortfall below the floor, per conversion² per sample. @default 1e6 */
  conversionPenalty?: number;
  /** Kelvin kept from the hot-spot and MTSR limits: the shield's 5 K plus 1 K. @default 6 */
  temperatureMargin?: number;
  /** bar kept from the pressure limit: the shield's 0.5 bar plus 0.2 bar. @default 0.7 */
  pressureMargin?: number;
  /** Lags of the manipulated setpoints (their order). @default identified on the twin (`identifyStepLags`) */
  lags?: InputLag[];
  /** The estimator's settings. @default `defaultEstimatorOptions(space)` */
  estimator?: Partial<EstimatorOptions>;
}

/** Penalty per (margin)² past a process limit and per (max move)² past a range, per level. */
const LIMIT_PENALTY = 1e3;
const RANGE_PENALTY = 1e3;

/**
 * The estimator's default set-up for a step, from the local observability of its analyser
 * (docs/mpc.md): the rate and the key's strength in its source always; the analyser's bias where
 * the key comes from a surge tank (its product concentrations and conversion separate bias from
 * strength); the heat transfer where the step is a packed bed (its hot spot answers to it; a coil
 * at the jacket's temperature does not).
 *
 * Where the key comes from a fresh feed and is not itself measured (nitration), the bias and the
 * strength are confounded: the results carry X·(1 + b) and S·X·(1 + b) only. Of the two, the
 * strength is estimated: a weaker stock read as a bias makes the model believe a conversion 7–10 %
 * above the truth (measured: 13 g off-spec in a 2 h feed-drift run), while a drifting analyser
 * read as strength fools the MPC no more than it fools a PID that holds the reading.
 */
export function defaultEstimatorOptions(space: StepSpace): EstimatorOptions {
  const step = space.step;
  const keyFromTank = step.inlets.some(
    (inlet) => space.keyPumps.has(inlet.pump) && inlet.source === 'tank',
  );
  const packed = step.type === 'packed-bed';
  const parameters: MpcParameter[] = ['rate', 'strength'];
  if (keyFromTank) parameters.push('bias');
  if (packed) parameters.push('heatTransfer');
  const noise = step.spec.analyser?.noise;
  return {
    parameters,
    // The recipe's kinetics within ±15 %, a calibrated analyser within ±2 %, a clean jacket
    // within ±20 %, a stock within ±5 %.
    prior: { rate: 0.15, bias: 0.02, heatTransfer: 0.2, strength: 0.05 },
    // Per hour: a catalyst's activity may fall by up to 0.5/h (the deactivation scenario's
    // worst is ~0.7/h, tracked with a lag); a homogeneous reaction's kinetics do not age, 0.1/h
    // covers a thermometer's or an impurity's slow drift; analyser drift 3 %/h; fouling to half
    // in an hour; a stock's 10 %/h.
    drift: { rate: step.catalyst ? 0.5 : 0.1, bias: 0.03, heatTransfer: 0.5, strength: 0.1 },
    noise: { relative: noise?.relative ?? 0.01, absolute: noise?.absolute ?? 0.002 },
    hotSpotNoise: packed ? 1 : 0,
  };
}

/** What the controller based its last decision on (for traces and tests). */
export interface MpcDiagnostics {
  parameters: MpcParameters;
  /** The conversion floor the plan kept, and the model's true conversion at the applied setpoints. */
  floor: number;
  conversion: number;
  /** Standard deviation of that conversion from the estimator's covariance. */
  sigma: number;
  iterations: number;
  /** The estimator's last analyser update: normalised innovation squared and values compared. */
  innovation: { nis: number; dof: number };
}

/**
 * Nonlinear economic model predictive control of one step, from what the step's sensors report
 * (`StepReadings`) and the recipe, nothing else: the competitor the trained agents are ranked
 * against. See docs/mpc.md.
 *
 * - Model (Hammerstein): each setpoint through its own first-order-plus-dead-time lag
 *   (`identifyStepLags`), then the twin's cells steady state of the step (`StepMpcModel`) at the
 *   estimated disturbances.
 * - Estimator: an EKF of those disturbances (`StepMpcEstimator`), updated by each new good
 *   analyser result at the inputs in effect when it was drawn.
 * - Control: every cycle the model is linearised at the applied setpoints (value, gradient and
 *   concave curvature of the economic rate; conversion's gradient; the shield's own process-limit
 *   predictions) and a QP over the horizon in a few blocked moves is solved (`solveBoxQp`):
 *   maximise the economic rate at the prices less the moves' penalty, with the conversion above
 *   minConversion + margin + z·σ and the shield's limits and ranges kept. The first move is applied.
 *   Re-linearised each cycle, the plan converges to the nonlinear optimum as the plant moves.
 */
export class StepMpcController implements StepController {
  readonly name = 'mpc';
  private readonly model: StepMpcModel;
  private readonly estimator: StepMpcEstimator;
  private readonly guard: ProcessLimitGuard;
  private readonly history: InputHistory;
  private readonly lags: InputLag[];
  private readonly nominal: Float64Array;
  private readonly moveSize: Float64Array;
  private readonly settings: Required<Omit<MpcOptions, 'lags' | 'estimator' | 'prices'>>;
  /** g of final product per mol of key charged: 0 where the key comes fresh within the target. */
  private readonly keyPrice: number;
  /** The economic rate at the recipe's point: the unit of the objective. */
  private readonly reference: number;
  private plan: Float64Array;
  private lastSampledAt = Number.NaN;
  private lastRecorded = Number.NaN;
  private last: MpcDiagnostics | undefined;

  constructor(
    private readonly space: StepSpace,
    private readonly options: MpcOptions,
  ) {
    const { keyReactant, product } = options.prices;
    if (!(keyReactant >= 0 && product > 0 && Number.isFinite(keyReactant + product)))
      throw new ControlError(
        'INVALID_SETTINGS',
        `prices must be finite, product > 0 (got ${keyReactant}, ${product})`,
      );
    this.settings = settingsOf(options);
    this.model = new StepMpcModel(space);
    this.lags = options.lags ?? identifyStepLags(space);
    if (this.lags.length !== space.manipulated.length)
      throw new ControlError(
        'INVALID_SETTINGS',
        `${this.lags.length} lags for ${space.manipulated.length} setpoints`,
      );
    this.estimator = new StepMpcEstimator(this.model, {
      ...defaultEstimatorOptions(space),
      ...options.estimator,
    });
    this.guard = new ProcessLimitGuard(space);
    this.nominal = Float64Array.from(space.manipulated, (m) => m.nominal);
    this.moveSize = Float64Array.from(space.manipulated, (m) => m.maxMove);
    const analyser = space.step.spec.analyser;
    const lookBack =
      (analyser ? analyser.deadTime + 3 * analyser.cadence : 0) + 2 * this.settings.cycle;
    this.history = new InputHistory(this.lags, this.nominal, lookBack);
    const freshKey = space.step.inlets.some(
      (inlet) => space.keyPumps.has(inlet.pump) && inlet.source === 'feed',
    );
    // The ledger charges a fresh key only past the throughput target, and the plan never feeds
    // past it (its range stops there); a key drawn from a surge tank is charged as the tank's loss.
    this.keyPrice = freshKey ? 0 : keyReactant;
    this.reference =
      product * this.model.predict(this.nominal, this.estimator.parameters()).product;
    if (!(this.reference > 0))
      throw new ControlError(
        'INVALID_SETTINGS',
        `step ${space.step.id} makes no product at its recipe's point`,
      );
    this.plan = new Float64Array(space.manipulated.length * this.settings.moves.length);
  }

  /** What the last decision was based on. */
  get diagnostics(): MpcDiagnostics | undefined {
    return this.last;
  }

  decide(readings: StepReadings): Record<string, number> {
    const applied = this.appliedOf(readings);
    if (Number.isFinite(this.lastRecorded)) {
      // The read-back was written a cycle ago: that is when it started to act.
      this.lastRecorded = Math.max(this.lastRecorded, readings.time - this.settings.cycle);
      this.history.record(this.lastRecorded, applied);
    } else this.restart(readings.time, applied);
    this.estimate(readings);
    return this.setpointsFor(applied, this.optimise(readings, applied));
  }

  reset(readings: StepReadings): void {
    this.restart(readings.time, this.appliedOf(readings));
  }

  private restart(time: number, applied: Float64Array): void {
    this.history.restart(applied);
    this.lastRecorded = Number.isFinite(time) ? time : 0;
    this.plan.fill(0);
  }

  /** The applied setpoints, manipulated order; a read-back that is not a number keeps the last. */
  private appliedOf(readings: StepReadings): Float64Array {
    const last = this.history.applied();
    return Float64Array.from(this.space.manipulated, (m, i) => {
      const value = readings.setpoints[m.tag];
      return value !== undefined && Number.isFinite(value) ? value : (last[i] ?? this.nominal[i]!);
    });
  }

  /** Each new good analyser result (and the hot spot with it) updates the estimate. */
  private estimate(readings: StepReadings): void {
    const analyser = readings.analyser;
    if (analyser?.quality !== 'good' || !Number.isFinite(analyser.sampledAt)) return;
    if (analyser.sampledAt <= this.lastSampledAt) return;
    this.lastSampledAt = analyser.sampledAt;
    const values = this.model.quantities.map((q) => analyser.values[q] ?? Number.NaN);
    this.estimator.updateAnalyser(
      analyser.sampledAt,
      this.history.effective(analyser.sampledAt),
      values,
    );
    if (Number.isFinite(readings.time))
      this.estimator.updateHotSpot(
        readings.time,
        this.history.effective(readings.time),
        readings.maxTemperature,
      );
  }

  /** The first block's moves, in max moves, of this cycle's plan. */
  private optimise(readings: StepReadings, applied: Float64Array): Float64Array {
    const parameters = this.estimator.parameters();
    const local = this.localModel(readings, applied, parameters);
    const time = Number.isFinite(readings.time) ? readings.time : this.lastRecorded;
    const sigma = this.estimator.sigmaOf(time, (p) => this.model.predict(applied, p).conversion);
    const s = this.settings;
    const floor = this.space.step.minConversion + s.conversionMargin + s.coverage * sigma;
    const problem = buildMpcProblem(local, this.layout(readings, applied), {
      move: s.movePenalty,
      floor,
      conversion: s.conversionPenalty,
      limit: LIMIT_PENALTY,
      range: RANGE_PENALTY,
    });
    const result = solveBoxQp(problem, this.plan);
    const finite = result.z.every(Number.isFinite);
    this.plan = finite ? result.z : new Float64Array(this.plan.length);
    this.last = {
      parameters,
      floor,
      conversion: local.conversion,
      sigma,
      iterations: result.iterations,
      innovation: this.estimator.lastInnovation,
    };
    return this.plan.subarray(0, applied.length);
  }

  /** The economic rate's and the conversion's local models at the applied setpoints. */
  private localModel(
    readings: StepReadings,
    applied: Float64Array,
    parameters: MpcParameters,
  ): LocalModel {
    const n = applied.length;
    const economic = (u: ArrayLike<number>) => {
      const p = this.model.predict(u, parameters);
      const value =
        (this.options.prices.product * p.product - this.keyPrice * p.keyFeed) / this.reference;
      return { value, conversion: p.conversion };
    };
    const base = economic(applied);
    const gradient = new Float64Array(n);
    const curvature = new Float64Array(n);
    const conversionGradient = new Float64Array(n);
    // Central differences over half a move each way: one move is the scale the plan acts on.
    for (let i = 0; i < n; i++) {
      const shifted = (sign: number) => {
        const u = Float64Array.from(applied);
        u[i]! += sign * 0.5 * this.moveSize[i]!;
        return economic(u);
      };
      const up = shifted(1);
      const down = shifted(-1);
      gradient[i] = up.value - down.value;
      curvature[i] = Math.min(0, (up.value - 2 * base.value + down.value) / 0.25);
      conversionGradient[i] = up.conversion - down.conversion;
    }
    return {
      economic: base.value,
      gradient,
      curvature,
      conversion: base.conversion,
      conversionGradient,
      limits: this.limits(readings, applied),
    };
  }

  /**
   * Room to the hot-spot, MTSR and pressure limits as the shield's own check sees it (its
   * prediction, corrected by what is measured above it), in units of each margin, and the room's
   * gradient per move, by forward differences.
   */
  private limits(readings: StepReadings, applied: Float64Array): LocalModel['limits'] {
    const step = this.space.step;
    const s = this.settings;
    try {
      const now = this.guard.predict(this.record(applied));
      const temperatureBias = finiteOr(readings.maxTemperature - now.maxTemperature, 0);
      const pressureBias = finiteOr(readings.pressure - now.pressure, 0);
      const quantities: [(p: ProcessPrediction) => number, number, number][] = [
        [
          (p) => p.maxTemperature + Math.max(0, temperatureBias),
          kelvinToCelsius(step.maxTemperature),
          s.temperatureMargin,
        ],
        [
          (p) => p.mtsr + Math.max(0, temperatureBias),
          kelvinToCelsius(step.maxTechnicalTemperature),
          s.temperatureMargin,
        ],
        [(p) => p.pressure + Math.max(0, pressureBias), step.maxPressure, s.pressureMargin],
      ];
      const moved = Array.from(applied, (_, i) => {
        const u = Float64Array.from(applied);
        u[i]! += this.moveSize[i]!;
        return this.guard.predict(this.record(u));
      });
      return quantities.map(([value, limit, margin]) => ({
        room: (limit - margin - value(now)) / margin,
        gradient: Float64Array.from(moved, (p) => (value(p) - value(now)) / margin),
      }));
    } catch {
      return []; // no prediction: the shield's own check still stands
    }
  }

  /** The horizon's samples, the lags' responses to each block's move, the boxes and ranges. */
  private layout(readings: StepReadings, applied: Float64Array): HorizonLayout {
    const s = this.settings;
    const n = applied.length;
    const time = Number.isFinite(readings.time) ? readings.time : this.lastRecorded;
    const free: Float64Array[] = [];
    const response: Float64Array[][] = [];
    const weights: number[] = [];
    for (let k = 1; k <= s.horizon; k++) {
      const t = k * s.cycle;
      const effective = this.history.effective(time + t);
      free.push(effective.map((v, i) => (v - applied[i]!) / this.moveSize[i]!));
      response.push(
        s.moves.map((start) =>
          Float64Array.from(this.lags, (lag) => lagResponse(lag, t - start * s.cycle)),
        ),
      );
      weights.push(1);
    }
    // The steady state after the horizon: the free response has settled at the applied setpoints.
    free.push(new Float64Array(n));
    response.push(s.moves.map(() => new Float64Array(n).fill(1)));
    weights.push(s.terminalWeight);
    const range = this.ranges(readings, applied);
    const lower = new Float64Array(n * s.moves.length).fill(-1);
    const upper = new Float64Array(n * s.moves.length).fill(1);
    range.forEach(({ low, high }, i) => {
      const top = Math.max(-1, Math.min(1, high));
      upper[i] = top;
      lower[i] = Math.min(top, Math.max(-1, Math.min(1, low)));
    });
    return { free, response, weights, lower, upper, range };
  }

  /** Each input's range from the applied value, in max moves: the agent's, the key pumps capped at the target. */
  private ranges(readings: StepReadings, applied: Float64Array): { low: number; high: number }[] {
    const target = finiteOr(readings.throughputTarget, 1);
    return this.space.manipulated.map((m, i) => {
      let high = m.agent.high;
      if (this.space.keyPumps.has(m.tag))
        high = Math.max(m.agent.low, Math.min(high, target * m.nominal));
      return {
        low: (m.agent.low - applied[i]!) / m.maxMove,
        high: (high - applied[i]!) / m.maxMove,
      };
    });
  }

  /** The applied setpoints moved by the first block, inside the agent's range and one move. */
  private setpointsFor(applied: Float64Array, moves: Float64Array): Record<string, number> {
    const setpoints: Record<string, number> = {};
    this.space.manipulated.forEach((m, i) => {
      const from = applied[i]!;
      const move = Math.max(-1, Math.min(1, finiteOr(moves[i]!, 0))) * m.maxMove;
      const value = Math.max(m.agent.low, Math.min(m.agent.high, from + move));
      setpoints[m.tag] = Number.isFinite(value) ? value : m.nominal;
    });
    return setpoints;
  }

  private record(values: ArrayLike<number>): Record<string, number> {
    return Object.fromEntries(this.space.manipulated.map((m, i) => [m.tag, values[i]!]));
  }
}

function settingsOf(
  options: MpcOptions,
): Required<Omit<MpcOptions, 'lags' | 'estimator' | 'prices'>> {
  const horizon = options.horizon ?? 20;
  const moves = [...(options.moves ?? [0, 1, 3])].sort((a, b) => a - b);
  const settings = {
    cycle: options.cycle ?? 60,
    horizon,
    moves,
    terminalWeight: options.terminalWeight ?? horizon,
    movePenalty: options.movePenalty ?? 0.01,
    coverage: options.coverage ?? 2,
    conversionMargin: options.conversionMargin ?? 0.002,
    conversionPenalty: options.conversionPenalty ?? 1e6,
    temperatureMargin: options.temperatureMargin ?? 6,
    pressureMargin: options.pressureMargin ?? 0.7,
  };
  const bad = Object.entries(settings).find(
    ([, v]) => typeof v === 'number' && !(v >= 0 && Number.isFinite(v)),
  );
  if (bad)
    throw new ControlError(
      'INVALID_SETTINGS',
      `MPC ${bad[0]} must be a finite number ≥ 0 (got ${String(bad[1])})`,
    );
  if (!(
    settings.cycle > 0 &&
    horizon >= 1 &&
    moves[0] === 0 &&
    moves.every((m) => Number.isInteger(m) && m < horizon)
  ))
    throw new ControlError(
      'INVALID_SETTINGS',
      `MPC moves ${moves.join(',')} must start at 0 and lie inside the horizon ${horizon}`,
    );
  return settings;
}

function finiteOr(value: number, otherwise: number): number {
  return Number.isFinite(value) ? value : otherwise;
}
