import { GAS_CONSTANT, type AnalyserSpec, type PlantModel, type StepModel } from '@pipac/recipe';
import { SeededRandom } from '../random/seeded-random';

/**
 * How far "the plant" of the reality gap is from the training twin: what a real cell has that
 * the twin the agents trained in does not know. Each deviation is drawn once per plant from
 * its range (a plant is built, not disturbed: the deviations hold for the whole run, under
 * any scenario, and the scenario's disturbances come on top).
 */
export interface RealityGap {
  /**
   * Cells of each coil and packed bed, × this: a different residence-time distribution (less
   * axial dispersion than the twin's cells model assumes), so a different model structure, not
   * only other numbers. Stirred tanks stay one cell.
   */
  cellsFactor: number;
  /** The jacket's heat transfer coefficient, × a draw from this range per step (fouled, mis-sized). */
  heatTransfer: [number, number];
  /** What each pump delivers per unit of its setpoint, a draw per pump (calibration error). */
  pumpCalibration: [number, number];
  /** Each reaction's k_ref, × a draw per reaction (kinetics the calibration did not pin down). */
  rateConstant: [number, number];
  /** Each reaction's activation energy, + a draw per reaction, kJ/mol (behaviour off the trained temperatures). */
  activationEnergy: [number, number];
  /** Each liquid feed's strength, × a draw per feed (stock made up off target). */
  feedStrength: [number, number];
  /** Each analyser's calibration error, a relative draw per analyser (reads truth × (1 + it)). */
  analyserCalibration: [number, number];
  /** Each analyser's noise (relative and absolute), × this: a real instrument is noisier. */
  analyserNoise: number;
}

/**
 * `pipac eval --plant mismatch`: twice the cells, jackets at 75–95 % of their transfer, pumps
 * delivering 96–104 % of their setpoints, rate constants 85–115 % of the recipe's with ±3 kJ/mol
 * on their activation energies, feed stocks at 97–102 %, and analysers reading ±2 % off with
 * twice their noise. Wider than anything the training's
 * randomisation draws at nominal (its kinetic mismatch is a scale on every rate at once, with no
 * change of temperature dependence, cells or pump calibration).
 */
export const MISMATCH: RealityGap = {
  cellsFactor: 2,
  heatTransfer: [0.75, 0.95],
  pumpCalibration: [0.96, 1.04],
  rateConstant: [0.85, 1.15],
  activationEnergy: [-3, 3],
  feedStrength: [0.97, 1.02],
  analyserCalibration: [-0.02, 0.02],
  analyserNoise: 2,
};

/** The analyser with its noise (relative and absolute, where given) × `factor`. */
function noisier(analyser: AnalyserSpec, factor: number): AnalyserSpec {
  const noise = analyser.noise;
  if (!noise) return analyser;
  const scaled: NonNullable<AnalyserSpec['noise']> = {};
  if (noise.relative !== undefined) scaled.relative = noise.relative * factor;
  if (noise.absolute !== undefined) scaled.absolute = noise.absolute * factor;
  return { ...analyser, noise: scaled };
}

/** Most cells the twin allows a reactor (recipe schema). */
const MAX_CELLS = 200;

/**
 * The twin's model turned into "the plant" of the reality gap (`RealityGap`): a new model, the
 * given one untouched. The same seed gives the same plant; the controllers keep the twin's
 * model, so whatever they assume about the plant is off by exactly this.
 */
export function realPlant(model: PlantModel, seed: number, gap: RealityGap = MISMATCH): PlantModel {
  const random = new SeededRandom(seed).fork('reality-gap');
  const draw = ([low, high]: [number, number]) => low + (high - low) * random.uniform();
  const feeds = model.feeds.map((feed) => {
    if (feed.gas) return feed;
    const strength = draw(gap.feedStrength);
    return { ...feed, concentrations: feed.concentrations.map((c) => c * strength) };
  });
  const steps = model.steps.map((step): StepModel => {
    const cells =
      step.type === 'cstr'
        ? step.cells
        : Math.min(MAX_CELLS, Math.round(step.cells * gap.cellsFactor));
    const analyser = step.spec.analyser;
    return {
      ...step,
      ...(analyser
        ? {
            analyserCalibration: draw(gap.analyserCalibration),
            spec: { ...step.spec, analyser: noisier(analyser, gap.analyserNoise) },
          }
        : {}),
      cells,
      heatTransfer: step.heatTransfer * draw(gap.heatTransfer),
      inlets: step.inlets.map((inlet) => ({
        ...inlet,
        toInternal: inlet.toInternal * draw(gap.pumpCalibration),
      })),
      reactions: step.reactions.map((reaction) => {
        const factor = draw(gap.rateConstant);
        // Ea + ΔEa at the same k_ref: ΔEa/R moves k away from T_ref only.
        const shift = (draw(gap.activationEnergy) * 1000) / GAS_CONSTANT;
        return {
          ...reaction,
          kRef: reaction.kRef * factor,
          eaOverR: reaction.eaOverR + shift,
          ...(reaction.reverse
            ? {
                reverse: {
                  ...reaction.reverse,
                  kRef: reaction.reverse.kRef * factor,
                  eaOverR: reaction.reverse.eaOverR + shift,
                },
              }
            : {}),
        };
      }),
    };
  });
  return { ...model, feeds, steps };
}
