import { kelvinToCelsius } from '@pipac/recipe';
import { pressureDrop, solveStepOutlet, type StepSolution } from '@pipac/twin';
import type { ProcessLimitCheck, ProcessMeasurement, ProcessVerdict } from '../safety-shield';
import { nominalSteadyState, type StepSpace } from './step-space';

export interface ProcessLimitGuardOptions {
  /**
   * Distance kept from the hot-spot and MTSR limits, K: a class-1 thermocouple's ±1.5 K, the
   * twin's transient between two steady states one move apart, and the plug-flow bound's
   * 0.3 K on the MTSR (see `predict`). @default 5
   */
  temperatureMargin?: number;
  /** Distance kept from the pressure limit, bar. @default 0.5 */
  pressureMargin?: number;
}

/** A step's process quantities at steady state: °C, °C, bar(g). */
export interface ProcessPrediction {
  maxTemperature: number;
  mtsr: number;
  pressure: number;
}

/**
 * The shield's process-limit check of one step (hot spot, MTSR, inlet pressure: the recipe's
 * limits, libs/twin safety/limits.ts), predictive: before setpoints are written it solves the
 * steady state they lead to, on the twin's own reactor model, and refuses them when it would
 * come within a margin of a limit. Pure and deterministic: the solver is; inputs are passed in.
 *
 * The prediction is corrected by what is measured: where the measured hot spot (or pressure)
 * is above the model's at the current setpoints (a fouled jacket, a richer tank, a faster
 * catalyst), the excess is added to the prediction at the proposal, and to its MTSR; never
 * subtracted, so a model that over-predicts stays conservative. A measurement that is not a
 * number proves nothing: the check fails.
 *
 * The safe side. The MTSR (maximum temperature of the synthesis reaction, Stoessel: the
 * temperature the mixture would reach if the accumulated key reactant reacted with the cooling
 * lost) must stay below the maximum technical temperature (boiling point at pressure,
 * decomposition onset): criticality class 1-2. In a semi-batch reactor cooling can raise the
 * MTSR, as the accumulation grows faster than the temperature falls; along this flow reactor
 * the potential T + ΔTad·c of the synthesis reaction changes only by exchange with the jacket,
 * d(T + ΔTad·c)/dτ = UA/(ρc_p·V)·(T_j − T), so a cooler jacket takes heat out of it; less feed
 * at the same ratio releases less heat per second, keeps the inlet concentrations (the
 * accumulation) as they are, and lowers the pressure drop. So one move to the safe side is:
 * every feed down by one move at constant ratio (never starve the co-reactant while the key
 * reactant keeps coming), the jacket down by one move. Repeated, it ends at MTP Pause (feeds
 * off), the step's recognised safe state.
 */
export class ProcessLimitGuard implements ProcessLimitCheck {
  private readonly temperatureMargin: number;
  private readonly pressureMargin: number;
  private readonly tankCompositions: Record<string, Record<string, number>>;
  private solution: StepSolution | undefined;
  /** The last prediction at the current setpoints: the shield asks for it up to twice a cycle. */
  private now: { key: string; prediction: ProcessPrediction } | undefined;

  constructor(
    private readonly space: StepSpace,
    options: ProcessLimitGuardOptions = {},
  ) {
    this.temperatureMargin = options.temperatureMargin ?? 5;
    this.pressureMargin = options.pressureMargin ?? 0.5;
    // What a plant without inlet analysers can know of its surge tanks: the recipe's steady
    // composition (as StepSpace.keyReactantFeed assumes); the measured bias covers the rest.
    const nominal = nominalSteadyState(space.model);
    this.tankCompositions = Object.fromEntries(
      space.model.tanks.map((tank) => [tank.id, nominal.steps[tank.fillingStep]!.outlet]),
    );
  }

  check(
    proposed: Readonly<Record<string, number>>,
    current: Readonly<Record<string, number>>,
    measured: ProcessMeasurement | undefined,
  ): ProcessVerdict {
    try {
      const bias = this.bias(current, measured);
      if (typeof bias === 'string') return { safe: false, detail: bias };
      const predicted = this.predict(proposed, current);
      return this.verdict({
        maxTemperature: predicted.maxTemperature + bias.temperature,
        mtsr: predicted.mtsr + bias.temperature,
        pressure: predicted.pressure + bias.pressure,
      });
    } catch (error) {
      // A setpoint the model cannot solve is a setpoint whose safety is not shown.
      return { safe: false, detail: `no prediction: ${(error as Error).message}` };
    }
  }

  safeSide(current: Readonly<Record<string, number>>): Record<string, number> {
    const pumps = this.space.manipulated.filter((m) => m.kind === 'pump');
    // One fraction for every pump, the largest that moves none beyond its maxMove.
    let fraction = 1;
    for (const m of pumps) {
      const flow = current[m.tag] ?? 0;
      if (flow > 0) fraction = Math.min(fraction, m.maxMove / flow);
    }
    const setpoints: Record<string, number> = {};
    for (const m of this.space.manipulated) {
      const value = current[m.tag];
      if (value === undefined || !Number.isFinite(value)) continue;
      const lowered = m.kind === 'pump' ? value * (1 - fraction) : value - m.maxMove;
      setpoints[m.tag] = Math.max(m.engineering.low, Math.min(value, lowered));
    }
    return setpoints;
  }

  /**
   * The steady state these setpoints lead to. Ideal plug flow (for a stirred tank, the tank):
   * over every recipe's engineering box it bounds the twin's tanks-in-series hot spot from
   * above and its MTSR to within 0.3 K (measured on the three recipes), at 0.2-0.3 ms a solve
   * against 5 ms for the cells. Feeds stopped: nothing reacts in, the reactor goes to its jacket.
   * (Less feed is not by itself cooler: with a hot jacket a slow feed sits at the jacket's
   * temperature plus its reaction heat, which is why the safe side lowers the jacket too, and
   * why every move is checked again, not assumed safe.)
   */
  predict(
    setpoints: Readonly<Record<string, number>>,
    current: Readonly<Record<string, number>> = {},
  ): ProcessPrediction {
    const step = this.space.step;
    const flows: Record<string, number> = {};
    let total = 0;
    for (const inlet of step.inlets) {
      flows[inlet.pump] = Math.max(0, setpoints[inlet.pump] ?? current[inlet.pump] ?? 0);
      total += flows[inlet.pump]!;
    }
    const jacket =
      setpoints[step.thermostat.tag] ?? current[step.thermostat.tag] ?? step.thermostat.nominal;
    const backPressure = current[step.backPressure.tag] ?? step.backPressure.nominal;
    if (total <= 0) return { maxTemperature: jacket, mtsr: jacket, pressure: backPressure };
    // A trickle is solved as 5 % of the nominal feed at the same ratio: below that the steady
    // state no longer changes (measured on the three recipes), and the solver would march
    // through days of residence time (a pump ramping to 0 stops at 4e-16, not at 0).
    const floor = 0.05 * step.inlets.reduce((sum, inlet) => sum + inlet.nominal, 0);
    if (total < floor) for (const pump of Object.keys(flows)) flows[pump]! *= floor / total;
    const conditions = {
      flows,
      jacketTemperature: jacket,
      backPressure,
      tankCompositions: this.tankCompositions,
    };
    // 1e-4 relative: a thousandth of the margin, at a fraction of the default tolerance's cost.
    const tolerance = { rtol: 1e-4, atol: 1e-8 };
    const solution = solveStepOutlet(this.space.model, step, conditions, tolerance, this.solution);
    this.solution = solution;
    return {
      maxTemperature: kelvinToCelsius(solution.outlet.maxTemperature),
      mtsr: kelvinToCelsius(solution.outlet.mtsr),
      pressure: solution.backPressure + pressureDrop(step, solution.inlet.flow),
    };
  }

  /** How far the plant measures above the model now (never below: see the class); or why unknown. */
  private bias(
    current: Readonly<Record<string, number>>,
    measured: ProcessMeasurement | undefined,
  ): { temperature: number; pressure: number } | string {
    if (!measured) return { temperature: 0, pressure: 0 };
    if (!Number.isFinite(measured.maxTemperature) || !Number.isFinite(measured.pressure)) {
      return `hot spot ${measured.maxTemperature} °C, pressure ${measured.pressure} bar: not measured`;
    }
    const key = JSON.stringify(current);
    if (this.now?.key !== key) this.now = { key, prediction: this.predict(current) };
    const now = this.now.prediction;
    return {
      temperature: Math.max(0, measured.maxTemperature - now.maxTemperature),
      pressure: Math.max(0, measured.pressure - now.pressure),
    };
  }

  private verdict(expected: ProcessPrediction): ProcessVerdict {
    const step = this.space.step;
    const checks = [
      [
        'hot spot',
        expected.maxTemperature,
        kelvinToCelsius(step.maxTemperature),
        this.temperatureMargin,
        '°C',
      ],
      [
        'MTSR',
        expected.mtsr,
        kelvinToCelsius(step.maxTechnicalTemperature),
        this.temperatureMargin,
        '°C',
      ],
      ['inlet pressure', expected.pressure, step.maxPressure, this.pressureMargin, 'bar'],
    ] as const;
    for (const [name, value, limit, margin, unit] of checks) {
      if (!(value < limit - margin)) {
        return {
          safe: false,
          detail: `${step.id} ${name} ${round(value)} ${unit} expected, within ${margin} ${unit} of its limit ${round(limit)} ${unit}`,
        };
      }
    }
    return { safe: true, detail: '' };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
