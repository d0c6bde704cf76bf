import { Matrix, inverse } from 'ml-matrix';
import { ControlError } from '../control.error';
import {
  NOMINAL_PARAMETERS,
  type MpcParameter,
  type MpcParameters,
  type StepMpcModel,
} from './step-mpc.model';

export interface EstimatorOptions {
  /** The parameters estimated; the others stay at their nominal 0. */
  parameters: readonly MpcParameter[];
  /** Prior standard deviation of each parameter at the start. */
  prior: Readonly<Record<MpcParameter, number>>;
  /** How far each parameter may wander in an hour (standard deviation of its random walk). */
  drift: Readonly<Record<MpcParameter, number>>;
  /** Analyser noise: standard deviation relative × |value| + absolute (the recipe's). */
  noise: { relative: number; absolute: number };
  /** Standard deviation of the hot spot against the model, K; 0: the hot spot is not used. */
  hotSpotNoise: number;
}

/** Finite-difference step of every parameter (ln units or relative bias). */
const DIFFERENCE = 1e-4;

/**
 * Where each parameter may physically lie: rates from 5 % to 4.5 × the recipe's, a bias of
 * ±30 %, fouling to 8 % of the clean heat transfer, a source from 37 % to 165 % of its strength.
 * An estimate outside is a model error, not a plant, so it is held at the edge.
 */
const PLAUSIBLE: Record<MpcParameter, [number, number]> = {
  rate: [-3, 1.5],
  bias: [-0.3, 0.3],
  heatTransfer: [-2.5, 1],
  strength: [-1, 0.5],
};

/**
 * Extended Kalman filter of the step's unmeasured disturbances (random-walk parameters, see
 * `MpcParameters`), on the model's steady state at the effective inputs.
 *
 * Delayed, asynchronous samples: each result is compared with the model at the inputs in effect
 * when it was drawn (`sampledAt`), not when it arrived. The states are random walks that the
 * inputs do not move, so a delayed sample updates them directly: no re-propagation is needed,
 * only the covariance's growth up to `sampledAt`. No result, no update: during an analyser
 * outage the covariance keeps growing (`covarianceAt`), and with it the controller's back-off.
 */
export class StepMpcEstimator {
  private readonly x: Float64Array;
  private readonly p: Matrix;
  private readonly q: Float64Array;
  /** s: the time the covariance refers to. */
  private time = Number.NaN;
  /**
   * Normalised innovation squared of the last update and its degrees of freedom (the values
   * compared): over many updates its mean is the degrees of freedom when Q and R are right.
   */
  lastInnovation = { nis: Number.NaN, dof: 0 };
  /** The same for the update running now. */
  private innovation = { nis: Number.NaN, dof: 0 };

  constructor(
    private readonly model: StepMpcModel,
    private readonly options: EstimatorOptions,
  ) {
    const n = options.parameters.length;
    if (n === 0) throw new ControlError('INVALID_SETTINGS', 'the estimator needs a parameter');
    this.x = new Float64Array(n);
    this.p = Matrix.diag(options.parameters.map((name) => options.prior[name] ** 2));
    // Random walk: variance drift² per hour, per second.
    this.q = Float64Array.from(options.parameters, (name) => options.drift[name] ** 2 / 3600);
  }

  /** The estimate now, every parameter (the fixed ones at 0). */
  parameters(): MpcParameters {
    const all = { ...NOMINAL_PARAMETERS };
    this.options.parameters.forEach((name, i) => (all[name] = this.x[i]!));
    return all;
  }

  /** The estimated parameters' covariance at `time` (grown by the random walk since the last update). */
  covarianceAt(time: number): Matrix {
    const p = this.p.clone();
    const dt = Number.isFinite(this.time) ? Math.max(0, time - this.time) : 0;
    for (let i = 0; i < this.q.length; i++) p.set(i, i, p.get(i, i) + this.q[i]! * dt);
    return p;
  }

  /** Standard deviation of `f(parameters)` at `time`, by the gradient of f (first order). */
  sigmaOf(time: number, f: (parameters: MpcParameters) => number): number {
    const base = this.parameters();
    const f0 = f(base);
    const gradient = this.options.parameters.map((name) => {
      const shifted = { ...base, [name]: base[name] + DIFFERENCE };
      return (f(shifted) - f0) / DIFFERENCE;
    });
    const g = Matrix.rowVector(gradient);
    const variance = g.mmul(this.covarianceAt(time)).mmul(g.transpose()).get(0, 0);
    return Math.sqrt(Math.max(variance, 0));
  }

  /**
   * An analyser result drawn at `sampledAt` with the effective inputs `inputs`: values by the
   * model's quantities, non-finite ones left out.
   */
  updateAnalyser(sampledAt: number, inputs: ArrayLike<number>, values: ArrayLike<number>): void {
    const { relative, absolute } = this.options.noise;
    const h = (parameters: MpcParameters) => {
      const predicted = this.model.predict(inputs, parameters).analyser;
      return Array.from(predicted, (v) => v * (1 + parameters.bias));
    };
    const rows = Array.from(values, (_, m) => m).filter((m) => Number.isFinite(values[m]));
    if (rows.length === 0) return;
    this.update(
      sampledAt,
      rows.map((m) => values[m]!),
      (parameters) => {
        const all = h(parameters);
        return rows.map((m) => all[m]!);
      },
      (predicted) => Math.hypot(relative * Math.abs(predicted), absolute),
    );
    this.lastInnovation = this.innovation;
  }

  /** The hot spot measured at `time` with the effective inputs `inputs` (where configured). */
  updateHotSpot(time: number, inputs: ArrayLike<number>, measured: number): void {
    const sd = this.options.hotSpotNoise;
    if (!(sd > 0) || !Number.isFinite(measured)) return;
    this.update(
      time,
      [measured],
      (parameters) => [this.model.predict(inputs, parameters).maxTemperature],
      () => sd,
    );
  }

  /** One EKF measurement update at `time` (Joseph form). */
  private update(
    time: number,
    measured: number[],
    h: (parameters: MpcParameters) => number[],
    sd: (predicted: number) => number,
  ): void {
    const p = this.covarianceAt(time);
    const names = this.options.parameters;
    const base = this.parameters();
    const predicted = h(base);
    const jacobian = new Matrix(measured.length, names.length);
    names.forEach((name, j) => {
      const shifted = h({ ...base, [name]: base[name] + DIFFERENCE });
      shifted.forEach((v, i) => jacobian.set(i, j, (v - predicted[i]!) / DIFFERENCE));
    });
    const r = Matrix.diag(predicted.map((v) => sd(v) ** 2));
    const pht = p.mmul(jacobian.transpose());
    const s = jacobian.mmul(pht).add(r);
    const sInverse = inverse(s);
    const gain = pht.mmul(sInverse);
    const innovation = Matrix.columnVector(measured.map((v, i) => v - predicted[i]!));
    const nis = innovation.transpose().mmul(sInverse).mmul(innovation).get(0, 0);
    const step = gain.mmul(innovation);
    const ikh = Matrix.eye(names.length).sub(gain.mmul(jacobian));
    const next = ikh.mmul(p).mmul(ikh.transpose()).add(gain.mmul(r).mmul(gain.transpose()));
    if (!next.to1DArray().every(Number.isFinite) || !step.to1DArray().every(Number.isFinite))
      return; // a model that cannot be solved there teaches nothing
    names.forEach((name, i) => {
      const [low, high] = PLAUSIBLE[name];
      this.x[i] = Math.min(high, Math.max(low, this.x[i]! + step.get(i, 0)));
    });
    this.p.setSubMatrix(next, 0, 0);
    this.innovation = { nis, dof: measured.length };
    this.time = Math.max(Number.isFinite(this.time) ? this.time : time, time);
  }
}
