import {
  kelvinToCelsius,
  solveStepOutlet,
  type Plant,
  type StepConditions,
  type StepSolution,
} from '@pipac/twin';
import type { StepController } from '../step/step-controller';
import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';

export interface OracleOptions {
  /** Re-solve the optimum every so many seconds of plant time. @default 600 */
  interval?: number;
  /** The optimum keeps the true conversion this far above the step's minimum. @default 0.005 */
  margin?: number;
  /** Kelvin kept between the hottest point and its limit. @default 5 */
  temperatureMargin?: number;
  /** Jacket temperatures tried per solve, over the agent range. @default 7 */
  temperatures?: number;
}

/**
 * The oracle: a controller that sees what no real one can, the true disturbed plant (catalyst
 * activity, rate constants, heat transfer, feed strength, pump calibration, tank compositions),
 * and re-solves the step's optimal steady state with it every `interval`. The optimum is the
 * most product per second at the throughput target or below, with the true conversion at
 * least minConversion + margin and the hottest point, MTSR and pressure inside their limits;
 * at equal product, the cooler jacket wins. Flows move together in the recipe's ratios.
 *
 * Model: the ideal plug-flow design equation (1 ms a solve; the tanks-in-series model the twin
 * integrates takes 5–20 ms, too slow to search), corrected by the offset between the twin's
 * true conversion now and the model's prediction at the applied setpoints: a real-time
 * optimiser with perfect information and a bias update. It is the yardstick of the evaluation
 * ("fraction of the oracle"), not a controller for the plant.
 */
export class SteadyStateOracleController implements StepController {
  readonly name = 'oracle';
  private readonly interval: number;
  private readonly margin: number;
  private readonly temperatureMargin: number;
  private readonly temperatures: number;
  private nextSolve = Number.NEGATIVE_INFINITY;
  private plan: Record<string, number>;
  private solution: StepSolution | undefined;

  constructor(
    private readonly space: StepSpace,
    private readonly plant: Plant,
    options: OracleOptions = {},
  ) {
    this.interval = options.interval ?? 600;
    this.margin = options.margin ?? 0.005;
    this.temperatureMargin = options.temperatureMargin ?? 5;
    this.temperatures = options.temperatures ?? 7;
    this.plan = space.nominalSetpoints();
  }

  decide(readings: StepReadings): Record<string, number> {
    if (readings.time >= this.nextSolve) {
      this.nextSolve = readings.time + this.interval;
      this.plan = this.optimise(readings);
    }
    return { ...this.plan };
  }

  reset(): void {
    this.nextSolve = Number.NEGATIVE_INFINITY;
  }

  /** The best (scale, jacket) for the plant as it truly is now. */
  private optimise(readings: StepReadings): Record<string, number> {
    const space = this.space;
    const step = space.step;
    const unit = this.plant.units[step.index]!;
    const truth = this.trueConditions();
    const pumps = space.manipulated.filter((m) => m.kind === 'pump');
    const jacket = space.manipulated.find((m) => m.kind === 'thermostat')!;
    // Delivered flow = setpoint × pump factor: the oracle plans delivered flows.
    const delivered = (scale: number): Record<string, number> =>
      Object.fromEntries(pumps.map((m) => [m.tag, m.nominal * scale]));
    const appliedScale =
      step.inlets.reduce((sum, inlet, k) => sum + unit.flow[k]! / inlet.nominal, 0) /
      step.inlets.length;
    const bias =
      unit.conversion() -
      this.evaluate(truth, delivered(appliedScale), kelvinToCelsius(unit.jacketTemperature))
        .conversion;
    const minScale = Math.max(...pumps.map((m) => m.engineering.low / m.nominal), 0.3);
    const cap = Math.max(minScale, readings.throughputTarget);
    const required = step.minConversion + this.margin;
    let best = { scale: minScale, jacket: jacket.nominal, product: -1 };
    const n = this.temperatures;
    for (let j = 0; j < n; j++) {
      const temperature = jacket.agent.low + ((jacket.agent.high - jacket.agent.low) * j) / (n - 1);
      const feasible = (scale: number) => {
        const result = this.evaluate(truth, delivered(scale), temperature);
        return result.safe && result.conversion + bias >= required ? result : undefined;
      };
      let scale: number;
      if (feasible(cap)) scale = cap;
      else if (!feasible(minScale)) continue;
      else {
        // Conversion falls with flow: bisect for the largest feasible scale.
        let low = minScale;
        let high = cap;
        for (let i = 0; i < 8; i++) {
          const mid = (low + high) / 2;
          if (feasible(mid)) low = mid;
          else high = mid;
        }
        scale = low;
      }
      const product = this.evaluate(truth, delivered(scale), temperature).product;
      if (product > best.product * (1 + 1e-4)) best = { scale, jacket: temperature, product };
    }
    const plan: Record<string, number> = {};
    step.inlets.forEach((inlet, k) => {
      plan[inlet.pump] = (inlet.nominal * best.scale) / (unit.pumpFactor[k] || 1);
    });
    plan[jacket.tag] = best.jacket;
    return plan;
  }

  private evaluate(
    truth: StepConditions,
    flows: Record<string, number>,
    jacketTemperature: number,
  ): { conversion: number; product: number; safe: boolean } {
    const step = this.space.step;
    this.solution = solveStepOutlet(
      this.space.model,
      step,
      { ...truth, flows, jacketTemperature },
      {},
      this.solution,
    );
    const { inlet, outlet } = this.solution;
    const keyIn = inlet.concentrations[step.keyIndex]!;
    const conversion = keyIn > 0 ? 1 - outlet.concentrations[step.keyIndex]! / keyIn : 0;
    const product =
      inlet.flow *
      (outlet.concentrations[step.productIndex]! - inlet.concentrations[step.productIndex]!);
    const safe =
      outlet.maxTemperature <= step.maxTemperature - this.temperatureMargin &&
      outlet.mtsr <= step.maxTechnicalTemperature;
    return { conversion, product, safe };
  }

  private trueConditions(): StepConditions {
    const plant = this.plant;
    const model = this.space.model;
    const unit = plant.units[this.space.step.index]!;
    const record = (c: ArrayLike<number>) =>
      Object.fromEntries(model.speciesIds.map((id, i) => [id, c[i]!]));
    return {
      backPressure: unit.backPressure,
      // Without a catalyst the activity stands for the step's rates (deactivation scenario).
      catalystActivity: unit.activity,
      rateMultiplier: unit.rateMultiplier * (this.space.step.catalyst ? 1 : unit.activity),
      heatTransferFactor: unit.heatTransferFactor,
      feedConcentrations: Object.fromEntries(
        model.feeds.map((feed, f) => [feed.id, record(plant.feedConcentrations[f]!)]),
      ),
      tankCompositions: Object.fromEntries(
        model.tanks.map((tank) => [tank.id, record(plant.tank(tank.id).concentrations)]),
      ),
    };
  }
}
