import { NORMAL_MOLAR_VOLUME, type PlantModel, type StepModel } from '@pipac/recipe';
import { CoordinationError } from './coordination.error';

/**
 * How far a step's booked product may exceed what its key reactant allows before the check
 * fails. Two measured figures meet here (the step's own analyser and outlet flow against the
 * upstream analyser and the draw, or a feed's stock concentration): the twin's analysers carry
 * 1–2 % relative noise, averaged over an order to a few tenths of a percent, and the reactor's
 * hold-up and the analyser's dead time shift a few minutes of product across the order's
 * start and end. Hence 3 % relative, plus 1 mmol of key reactant (about 0.1 g of product) so
 * that a short order's round-off cannot fail it.
 */
export interface StoichiometryTolerance {
  /** Fraction of the key reactant consumed. @default 0.03 */
  relative: number;
  /** mol of key reactant. @default 0.001 */
  absolute: number;
}

export const DEFAULT_STOICHIOMETRY_TOLERANCE: StoichiometryTolerance = {
  relative: 0.03,
  absolute: 0.001,
};

/** What a step booked, as the check reads it. */
export interface StepStoichiometry {
  step: string;
  product: string;
  keyReactant: string;
  /** g of product booked. */
  produced: number;
  /** mol of key reactant that product needs: produced / M_product × |ν_key| / ν_product. */
  keyRequired: number;
  /** mol of key reactant in what the step consumed (measured and estimated). */
  keyConsumed: number;
  /** Of `keyConsumed`, mol that were estimated rather than measured. @default 0 */
  keyEstimated?: number;
  /** Why some consumption could not be booked at all (one reason per interval, or per kind of interval). @default [] */
  unmeasured?: string[];
}

/** The check's result for one step, as the batch record shows it. */
export interface StoichiometryCheck extends Required<StepStoichiometry> {
  /**
   * `pass`: the product is within what the consumed key reactant allows (with the tolerance);
   * `fail`: it is not; `unverifiable`: it is not, but some consumption went unmeasured, so the
   * record cannot tell a booking fault from missing data.
   */
  status: 'pass' | 'fail' | 'unverifiable';
  /** keyRequired / keyConsumed: the yield on the key reactant, ≤ 1 by stoichiometry (null: none consumed). */
  yield: number | null;
  /** g of product the consumed key reactant allows at most (null while nothing was produced). */
  maxProduct: number | null;
  /** mol of key reactant the product may need before the check fails. */
  allowed: number;
  tolerance: StoichiometryTolerance;
  /** One line for the record. */
  reason: string;
}

/**
 * No step may report more product than its consumed inputs allow: the moles of key reactant
 * its product needs (product moles × |ν_key|/ν_product of its synthesis reaction) must not
 * exceed the moles of key reactant it consumed, within `tolerance`. Pure; NaN, infinite and
 * negative figures are refused with `BAD_QUANTITY` rather than compared (a NaN would pass
 * every comparison-based check silently).
 */
export function checkStoichiometry(
  input: StepStoichiometry,
  tolerance: StoichiometryTolerance = DEFAULT_STOICHIOMETRY_TOLERANCE,
): StoichiometryCheck {
  const where = `stoichiometry of ${input.step}`;
  for (const [name, value] of [
    ['produced', input.produced],
    ['keyRequired', input.keyRequired],
    ['keyConsumed', input.keyConsumed],
    ['keyEstimated', input.keyEstimated ?? 0],
    ['tolerance.relative', tolerance.relative],
    ['tolerance.absolute', tolerance.absolute],
  ] as const) {
    if (!Number.isFinite(value) || value < 0)
      throw new CoordinationError(
        'BAD_QUANTITY',
        `${where}: ${name} ${value} is not a finite number ≥ 0`,
      );
  }
  const keyEstimated = input.keyEstimated ?? 0;
  const unmeasured = input.unmeasured ?? [];
  const allowed = input.keyConsumed * (1 + tolerance.relative) + tolerance.absolute;
  const yieldOnKey = input.keyConsumed > 0 ? input.keyRequired / input.keyConsumed : null;
  const maxProduct =
    input.keyRequired > 0 ? (input.produced * input.keyConsumed) / input.keyRequired : null;
  const within = input.keyRequired <= allowed;
  const status = within ? 'pass' : unmeasured.length > 0 ? 'unverifiable' : 'fail';
  const grams = (g: number | null) => (g === null ? '–' : `${g.toFixed(2)} g`);
  const mmol = (mol: number) => `${(mol * 1000).toFixed(1)} mmol`;
  const caveats = [
    keyEstimated > 0
      ? `${mmol(keyEstimated)} of the ${input.keyReactant} consumed is estimated`
      : '',
    unmeasured.length > 0
      ? `some consumption unmeasured (${[...new Set(unmeasured)].join('; ')})`
      : '',
  ].filter(Boolean);
  const reason =
    `${grams(input.produced)} ${input.product} needs ${mmol(input.keyRequired)} ${input.keyReactant}; ` +
    `${mmol(input.keyConsumed)} consumed allows ${grams(maxProduct)}` +
    (yieldOnKey === null ? '' : ` (yield ${(yieldOnKey * 100).toFixed(1)} %`) +
    (yieldOnKey === null
      ? ''
      : `, at most ${((1 + tolerance.relative) * 100).toFixed(0)} % with the tolerance)`) +
    (caveats.length ? `; ${caveats.join('; ')}` : '');
  return {
    step: input.step,
    product: input.product,
    keyReactant: input.keyReactant,
    produced: input.produced,
    keyRequired: input.keyRequired,
    keyConsumed: input.keyConsumed,
    keyEstimated,
    unmeasured,
    status,
    yield: yieldOnKey,
    maxProduct,
    allowed,
    tolerance,
    reason,
  };
}

/**
 * mol of `step`'s key reactant in a quantity of material it consumed: a feed in mL (or a gas
 * in NmL) at the feed's stock concentration, or g of the key reactant itself (drawn from a
 * tank). Any other material carries none (0).
 */
export function keyReactantMoles(
  model: PlantModel,
  step: StepModel,
  input: { material: string; quantity: number; unit: string },
): number {
  if (!Number.isFinite(input.quantity) || input.quantity < 0)
    throw new CoordinationError(
      'BAD_QUANTITY',
      `${step.id}: ${input.quantity} ${input.unit} of ${input.material} is not a finite number ≥ 0`,
    );
  const feed = model.feeds.find((f) => f.id === input.material);
  if (feed) {
    const concentration = feed.concentrations[step.keyIndex] ?? 0;
    if (input.unit === 'mL') return (input.quantity / 1000) * concentration;
    if (input.unit === 'NmL') return (input.quantity / 1000 / NORMAL_MOLAR_VOLUME) * concentration;
    throw new CoordinationError(
      'BAD_QUANTITY',
      `${step.id}: feed ${feed.id} booked in ${input.unit}`,
    );
  }
  if (input.material !== model.speciesIds[step.keyIndex]) return 0;
  if (input.unit !== 'g')
    throw new CoordinationError(
      'BAD_QUANTITY',
      `${step.id}: ${input.material} booked in ${input.unit}`,
    );
  return input.quantity / model.molarMass[step.keyIndex]!;
}

/** mol of key reactant `grams` of the step's product needs by its synthesis reaction's stoichiometry. */
export function keyRequiredMoles(model: PlantModel, step: StepModel, grams: number): number {
  if (!Number.isFinite(grams) || grams < 0)
    throw new CoordinationError(
      'BAD_QUANTITY',
      `${step.id}: ${grams} g of product is not a finite number ≥ 0`,
    );
  return (grams / model.molarMass[step.productIndex]!) * step.yieldFactor;
}
