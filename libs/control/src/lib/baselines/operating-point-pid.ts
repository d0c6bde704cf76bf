import { stepById, type PlantModel, type StepModel } from '@pipac/recipe';
import { solvePlantSteadyState } from '@pipac/twin';
import { nominalSteadyState } from '../step/step-space';
import { tuneConversionPid, type ConversionPidTuning } from './conversion-pid.controller';
import { analyserDelay, simcPi, stepResponse } from './step-response';

/** °C the jacket moves in its step test. */
const JACKET_STEP = 2;
/** Kelvin kept between the hottest point (and the MTSR) and its limit, as the oracle keeps. */
const TEMPERATURE_MARGIN = 5;
/** °C, the resolution of the search for the jacket's ceiling. */
const CEILING_STEP = 0.5;
/** °C above the recipe's temperature the jacket may go: the agent's range (StepSpace). */
const JACKET_SPAN = 15;
/** Coverage factor of the analyser margin: two standard uncertainties (about 95 %). */
const COVERAGE = 2;

/**
 * The PID baseline set up as a control engineer would for this plant (the evaluation's "pid";
 * the step agent's fallback keeps `tuneConversionPid`'s conservative set-up):
 *
 * 1. **Setpoint at the recipe's operating point**: the step's conversion at the recipe's
 *    setpoints (the twin's steady state, `nominalSteadyState`), but never below
 *    minConversion + `analyserMargin`: the loop holds the measured conversion, so what it
 *    holds must stay in spec within the analyser's noise.
 * 2. **Jacket first, then flow** (split range, `JacketSplitRange`): when conversion falls
 *    (an ageing catalyst), raise the jacket up to its ceiling, as a plant raises a reactor's
 *    temperature over a catalyst's life, and cut the flow only past it: throughput is the
 *    product. The ceiling (`jacketCeiling`) is where the step's yield stops rising or the hot
 *    spot or the MTSR comes within 5 K of its limit, at the recipe's flows.
 * 3. **One SIMC PI for both ranges**: the jacket's part of the output is scaled to the flow's
 *    gain, each range is tuned by SIMC from its own step test, and the loop takes the lower
 *    gain and the longer integral time of the two (robust in both).
 */
export function operatingPointPid(model: PlantModel, stepId: string): ConversionPidTuning {
  const flow = tuneConversionPid(model, stepId);
  const step = stepById(model, stepId);
  const nominal = nominalSteadyState(model).steps[step.index]!.figures.conversion;
  const margin = analyserMargin(step, flow);
  const setpoint = Math.max(nominal, step.minConversion + margin);
  const jacketNominal = step.spec.thermostat.setpoint.nominal;
  const ceiling = jacketCeiling(model, step);
  const thermal = stepResponse(model, stepId, JACKET_STEP, (plant) =>
    plant.setSetpoint(step.spec.thermostat.tag, jacketNominal + JACKET_STEP),
  );
  const width = ((ceiling - jacketNominal) * thermal.gain) / Math.abs(flow.process.gain);
  const thermalDead = thermal.deadTime + analyserDelay(step);
  const jacketPi = simcPi(flow.process.gain, thermal.timeConstant, thermalDead);
  const kp = Math.min(flow.kp, jacketPi.kp);
  const ti = Math.max(flow.ti, jacketPi.ti);
  const held =
    setpoint > nominal
      ? `minConversion ${step.minConversion} + analyser margin ${margin.toFixed(4)} (above the nominal ${nominal.toFixed(4)})`
      : `the nominal conversion (floor ${(step.minConversion + margin).toFixed(4)})`;
  return {
    kp,
    ti,
    process: flow.process,
    setpoint,
    jacket: {
      ceiling,
      width,
      process: { gain: thermal.gain, timeConstant: thermal.timeConstant, deadTime: thermalDead },
    },
    method: `setpoint ${setpoint.toFixed(4)}, ${held}; jacket ${jacketNominal}→${ceiling} °C before the flow (k = ${thermal.gain.toFixed(4)}/K, τ = ${thermal.timeConstant.toFixed(0)} s, θ = ${thermalDead.toFixed(0)} s: Kp ${jacketPi.kp.toFixed(2)}, Ti ${jacketPi.ti.toFixed(0)} s); flow ${flow.method}: Kp ${flow.kp.toFixed(2)}, Ti ${flow.ti.toFixed(0)} s; the loop takes the lower Kp and the longer Ti`,
  };
}

/**
 * How far above minConversion the loop's setpoint must stay for the analyser's noise: twice
 * the standard uncertainty of the conversion the loop holds. One result's standard deviation
 * at the spec is σ = √((relative·minConversion)² + absolute²) (the recipe's analyser noise);
 * the PI's integral holds the mean of the results over its closed-loop time constant
 * τc + θ = 2θ (SIMC), N = 2θ / cadence of them, so u = σ / √N.
 */
export function analyserMargin(step: StepModel, flow: ConversionPidTuning): number {
  const analyser = step.spec.analyser;
  if (!analyser) return 0;
  const sigma = Math.hypot(
    (analyser.noise?.relative ?? 0) * step.minConversion,
    analyser.noise?.absolute ?? 0,
  );
  const results = Math.max(1, (2 * flow.process.deadTime) / analyser.cadence);
  return (COVERAGE * sigma) / Math.sqrt(results);
}

/**
 * The hottest jacket temperature worth asking for at the recipe's flows: up from the recipe's
 * temperature in 0.5 °C steps, within the agent's range and the engineering range, while the
 * step's yield still rises and the hot spot and the MTSR stay 5 K inside their limits
 * (a steady-state solve on the twin's model per step).
 */
export function jacketCeiling(model: PlantModel, step: StepModel): number {
  const thermostat = step.spec.thermostat.setpoint;
  const top = Math.min(thermostat.max, thermostat.nominal + JACKET_SPAN);
  const limits = step.spec.limits;
  const technical = limits.maxTechnicalTemperature ?? limits.maxTemperature;
  let best = thermostat.nominal;
  let bestYield = nominalSteadyState(model).steps[step.index]!.figures.yield;
  for (let t = thermostat.nominal + CEILING_STEP; t <= top + 1e-9; t += CEILING_STEP) {
    const solved = solvePlantSteadyState(
      model,
      { steps: { [step.id]: { jacketTemperature: t } } },
      { model: 'cells' },
    ).steps[step.index]!;
    const safe =
      solved.safety.maxTemperature <= limits.maxTemperature - TEMPERATURE_MARGIN &&
      solved.safety.mtsr <= technical - TEMPERATURE_MARGIN;
    if (!safe || !(solved.figures.yield > bestYield)) break;
    best = t;
    bestYield = solved.figures.yield;
  }
  return best;
}
