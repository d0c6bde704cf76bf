import { kelvinToCelsius } from '@pipac/recipe';
import { solveStepOutlet, type Plant, type StepConditions, type StepSolution } from '@pipac/twin';
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
  /** Reagent-to-key flow ratios tried, relative to the recipe's. @default [0.8, 1, 1.25, 1.5] */
  ratios?: number[];
}

/**
 * The oracle: a controller that sees what no real one can, the true disturbed plant (catalyst
 * activity, rate constants, heat transfer, feed strength, pump calibration, tank compositions),
 * and re-solves the step's optimal steady state with it every `interval`. The optimum is the
 * most product per second at the throughput target or below, with the true conversion at
 * least minConversion + margin and the hottest point, MTSR and pressure inside their limits;
 * at equal product, the least reagent and the cooler jacket win. It searches the jacket
 * temperature, the flow of the key reactant and the ratio of every other pump to it.
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
  private readonly ratios: number[];
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
    this.ratios = [...(options.ratios ?? [0.8, 1, 1.25, 1.5])].sort((a, b) => a - b);
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

  /** The best (flow scale, reagent ratio, jacket) for the plant as it truly is now. */
  private optimise(readings: StepReadings): Record<string, number> {
    const space = this.space;
    const step = space.step;
    const unit = this.plant.units[step.index]!;
    const truth = this.trueConditions();
    const jacket = space.manipulated.find((m) => m.kind === 'thermostat')!;
    const keyPumps = space.keyPumps;
    // Delivered flows (setpoint × pump factor): the oracle plans what reaches the reactor.
    // Key-reactant pumps run at `scale` × nominal, the others (reagents) at scale × ratio.
    const delivered = (scale: number, ratio: number): Record<string, number> =>
      Object.fromEntries(
        step.inlets.map((inlet) => [
          inlet.pump,
          inlet.nominal * scale * (keyPumps.has(inlet.pump) ? 1 : ratio),
        ]),
      );
    const applied = Object.fromEntries(step.inlets.map((inlet, k) => [inlet.pump, unit.flow[k]!]));
    const bias =
      unit.conversion() -
      this.evaluate(truth, applied, kelvinToCelsius(unit.jacketTemperature)).conversion;
    const required = step.minConversion + this.margin;
    let best = { scale: 0, ratio: 1, jacket: jacket.nominal, product: -1 };
    const n = this.temperatures;
    for (const ratio of this.ratios) {
      // The scales at which every pump stays inside its engineering range.
      let minScale = 0.3;
      let maxScale = Math.max(readings.throughputTarget, 1e-3);
      for (const inlet of step.inlets) {
        const factor = inlet.nominal * (keyPumps.has(inlet.pump) ? 1 : ratio);
        minScale = Math.max(minScale, inlet.min / factor);
        maxScale = Math.min(maxScale, inlet.max / factor);
      }
      if (!(minScale <= maxScale)) continue;
      for (let j = 0; j < n; j++) {
        const temperature =
          jacket.agent.low + ((jacket.agent.high - jacket.agent.low) * j) / (n - 1);
        const feasible = (scale: number) => {
          const result = this.evaluate(truth, delivered(scale, ratio), temperature);
          return result.safe && result.conversion + bias >= required;
        };
        let scale: number;
        if (feasible(maxScale)) scale = maxScale;
        else if (!feasible(minScale)) continue;
        else {
          // Conversion falls with flow: bisect for the largest feasible scale.
          let low = minScale;
          let high = maxScale;
          for (let i = 0; i < 8; i++) {
            const mid = (low + high) / 2;
            if (feasible(mid)) low = mid;
            else high = mid;
          }
          scale = low;
        }
        const product = this.evaluate(truth, delivered(scale, ratio), temperature).product;
        // Ratios and temperatures are tried from low to high: at equal product the least
        // reagent and the coolest jacket win.
        if (product > best.product * (1 + 1e-4))
          best = { scale, ratio, jacket: temperature, product };
      }
    }
    if (best.product < 0) return { ...this.plan }; // nothing feasible: hold the last plan
    const flows = delivered(best.scale, best.ratio);
    const plan: Record<string, number> = {};
    step.inlets.forEach((inlet, k) => {
      plan[inlet.pump] = flows[inlet.pump]! / (unit.pumpFactor[k] || 1);
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
