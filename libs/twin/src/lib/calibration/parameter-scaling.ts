import { type Recipe, GAS_CONSTANT, celsiusToKelvin } from '@pipac/recipe';
import { CalibrationError } from './calibration.error';
import { getParameter, type ParameterRef } from './parameters';

/**
 * Three coordinate systems for the fitted parameters:
 *
 * - values: recipe units (k at the recipe's reference temperature, Ea in kJ/mol, orders).
 * - fit coordinates θ, what Levenberg–Marquardt moves, chosen so every θ is of order 1 and
 *   the damping λI treats them alike:
 *     k  → ln k(T_c), the log rate constant at the centring temperature T_c (1/T_c = mean of
 *          1/T over the experiments of the reaction's step). Log space keeps k positive and
 *          makes relative changes uniform; centring removes most of the k–Ea correlation that
 *          makes the plain Arrhenius form ill-conditioned (Schwaab & Pinto, Chem. Eng. Sci.
 *          62 (2007) 2750).
 *     Ea → Ea / 10 kJ/mol: a 10 kJ/mol change moves ln k by about 0.2 over a 15 K span near 300 K,
 *          the same order as a unit change of ln k.
 *     order → itself.
 * - report coordinates u, in which the covariance is given: ln k at the recipe's reference
 *   temperature, Ea in kJ/mol, orders. They map to values without reference to T_c, so the
 *   intervals describe the numbers written into the recipe.
 */
export interface ParameterScaling {
  toFit(values: readonly number[]): number[];
  fromFit(theta: readonly number[]): number[];
  toReport(values: readonly number[]): number[];
  fromReport(u: readonly number[]): number[];
  lower: number[];
  upper: number[];
  /** Forward-difference step for the fit Jacobian, per θ. */
  differenceStep: number[];
}

const EA_SCALE = 10; // kJ/mol per θ unit
const EA_MAX = 500; // kJ/mol, the recipe schema's limit
const ORDER_MAX = 10;
/** θ of ln k may move this far from its start (e^25 ≈ 7·10¹⁰): generous, but keeps trials finite. */
const LN_K_RANGE = 25;
const FIT_STEP = 1e-5;

/** Checks starting values against the physical ranges. Throws CalibrationError('PARAMETER_INVALID'). */
export function checkInitialValues(refs: readonly ParameterRef[], values: readonly number[]): void {
  refs.forEach((ref, i) => {
    const v = values[i] ?? Number.NaN;
    const bad = (message: string) => {
      throw new CalibrationError('PARAMETER_INVALID', `starting value of ${ref.path}: ${message}`, [
        { column: ref.path, message },
      ]);
    };
    if (!Number.isFinite(v)) bad(`${v} is not a finite number`);
    if (ref.kind === 'k' && v <= 0) bad(`a rate constant must be positive, got ${v}`);
    if (ref.kind === 'activationEnergy' && (v < 0 || v > EA_MAX))
      bad(`must lie in 0..${EA_MAX} kJ/mol, got ${v}`);
    if (ref.kind === 'order' && (v < 0 || v > ORDER_MAX))
      bad(`must lie in 0..${ORDER_MAX}, got ${v}`);
  });
}

/**
 * @param centring reaction id → centring temperature T_c, K
 * @param initial starting values (recipe units), which set the bounds of ln k
 */
export function createParameterScaling(
  recipe: Recipe,
  refs: readonly ParameterRef[],
  centring: ReadonlyMap<string, number>,
  initial: readonly number[],
): ParameterScaling {
  // For each k: its reaction's reference temperature, centring temperature, and where its Ea lives.
  const arrhenius = refs.map((ref) => {
    if (ref.kind !== 'k') return undefined;
    const reaction = recipe.reactions.find((r) => r.id === ref.reaction);
    const tRef = celsiusToKelvin(reaction?.rateLaw.k.referenceTemperature ?? 25);
    const tC = centring.get(ref.reaction) ?? tRef;
    const eaIndex = refs.findIndex(
      (r) => r.reaction === ref.reaction && r.kind === 'activationEnergy',
    );
    const fixedEa = getParameter(recipe, { ...ref, kind: 'activationEnergy' });
    // ln k(T_c) − ln k_ref = −(Ea/R)(1/T_c − 1/T_ref); Ea in kJ/mol.
    const shiftPerEa = (-1000 / GAS_CONSTANT) * (1 / tC - 1 / tRef);
    return { eaIndex, fixedEa, shiftPerEa };
  });
  const eaOf = (values: readonly number[], i: number): number => {
    const a = arrhenius[i]!;
    return a.eaIndex >= 0 ? values[a.eaIndex]! : a.fixedEa;
  };

  const toFit = (values: readonly number[]): number[] =>
    refs.map((ref, i) => {
      const v = values[i]!;
      if (ref.kind === 'k') return Math.log(v) + arrhenius[i]!.shiftPerEa * eaOf(values, i);
      if (ref.kind === 'activationEnergy') return v / EA_SCALE;
      return v;
    });

  const fromFit = (theta: readonly number[]): number[] => {
    const values = refs.map((ref, i) =>
      ref.kind === 'activationEnergy' ? theta[i]! * EA_SCALE : theta[i]!,
    );
    refs.forEach((ref, i) => {
      if (ref.kind === 'k')
        values[i] = Math.exp(theta[i]! - arrhenius[i]!.shiftPerEa * eaOf(values, i));
    });
    return values;
  };

  const start = toFit(initial);
  return {
    toFit,
    fromFit,
    toReport: (values) =>
      refs.map((ref, i) => (ref.kind === 'k' ? Math.log(values[i]!) : values[i]!)),
    fromReport: (u) => refs.map((ref, i) => (ref.kind === 'k' ? Math.exp(u[i]!) : u[i]!)),
    lower: refs.map((ref, i) => (ref.kind === 'k' ? start[i]! - LN_K_RANGE : 0)),
    upper: refs.map((ref, i) =>
      ref.kind === 'k'
        ? start[i]! + LN_K_RANGE
        : ref.kind === 'activationEnergy'
          ? EA_MAX / EA_SCALE
          : ORDER_MAX,
    ),
    differenceStep: refs.map(() => FIT_STEP),
  };
}
