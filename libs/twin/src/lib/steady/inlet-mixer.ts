import { type PlantModel, type StepModel, celsiusToKelvin } from '@pipac/recipe';

/** Surge tanks sit at ambient temperature. */
export const AMBIENT_TEMPERATURE = celsiusToKelvin(25);

/** The step's combined inlet stream, internal units. */
export interface MixedInlet {
  /** Liquid flow, L/s. */
  flow: number;
  /** mol/L, gas species counted as dissolved. */
  concentrations: Float64Array;
  /** K, flow-weighted over the liquid inlets. */
  temperature: number;
  /** kg/s of everything entering (liquid and gas). */
  massFlow: number;
  /** kg/s entering from fresh feed vessels only. */
  freshMassFlow: number;
}

/**
 * Mixes a step's inlets. `flows` are in recipe units by inlet index; `feedConcentrations`
 * and `tankConcentrations` give each feed's and tank's composition by index (the plant's
 * may drift from the recipe's); `feedTemperatures` each feed's temperature, K, by index
 * (a run may condition a feed away from the recipe's; default the recipe's).
 */
export function mixInlets(
  model: PlantModel,
  step: StepModel,
  flows: ArrayLike<number>,
  feedConcentrations: ArrayLike<Float64Array>,
  tankConcentrations: ArrayLike<Float64Array | undefined>,
  out: MixedInlet,
  feedTemperatures?: ArrayLike<number>,
): MixedInlet {
  const n = model.speciesIds.length;
  const c = out.concentrations;
  c.fill(0);
  let liquid = 0;
  let heatWeighted = 0;
  let mass = 0;
  let fresh = 0;
  const molarMass = model.molarMass;
  // A mass-flow controller doses gas into flowing liquid only: with no liquid, none is taken up.
  let anyLiquid = false;
  for (let k = 0; k < step.inlets.length; k++) {
    if (!step.inlets[k]!.gas && (flows[k] ?? 0) > 0) anyLiquid = true;
  }
  for (let k = 0; k < step.inlets.length; k++) {
    const inlet = step.inlets[k]!;
    const q = Math.max(0, flows[k] ?? 0) * inlet.toInternal;
    if (q === 0 || (inlet.gas && !anyLiquid)) continue;
    if (inlet.source === 'feed') {
      const feed = model.feeds[inlet.sourceIndex]!;
      const feedC = feedConcentrations[inlet.sourceIndex]!;
      if (inlet.gas) {
        // q is mol/s of the pure gas; it adds moles, not liquid volume.
        for (let i = 0; i < n; i++) {
          const x = feedC[i]!;
          if (x === 0) continue;
          c[i]! += q * x;
          mass += q * x * molarMass[i]! * 1e-3;
          fresh += q * x * molarMass[i]! * 1e-3;
        }
        continue;
      }
      for (let i = 0; i < n; i++) c[i]! += q * feedC[i]!;
      liquid += q;
      heatWeighted += q * (feedTemperatures?.[inlet.sourceIndex] ?? feed.temperature);
      mass += q * feed.density;
      fresh += q * feed.density;
    } else {
      const tank = tankConcentrations[inlet.sourceIndex];
      if (tank) for (let i = 0; i < n; i++) c[i]! += q * tank[i]!;
      liquid += q;
      heatWeighted += q * AMBIENT_TEMPERATURE;
      mass += q * step.density;
    }
  }
  if (liquid > 0) for (let i = 0; i < n; i++) c[i]! /= liquid;
  out.flow = liquid;
  out.temperature = liquid > 0 ? heatWeighted / liquid : AMBIENT_TEMPERATURE;
  out.massFlow = mass;
  out.freshMassFlow = fresh;
  return out;
}

export function createMixedInlet(speciesCount: number): MixedInlet {
  return {
    flow: 0,
    concentrations: new Float64Array(speciesCount),
    temperature: AMBIENT_TEMPERATURE,
    massFlow: 0,
    freshMassFlow: 0,
  };
}
