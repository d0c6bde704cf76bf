import type { ReactionSpec, Recipe } from '@pipac/recipe';
import { CalibrationError } from './calibration.error';

/**
 * Kinetic parameters calibration can fit, addressed by path:
 *
 *   reactions.<id>.k                  rate constant at the reaction's reference temperature
 *   reactions.<id>.activationEnergy   kJ/mol (alias: reactions.<id>.Ea)
 *   reactions.<id>.orders.<species>   reaction order in a species
 *
 * Reaction ids may contain dots: the id is everything between `reactions.` and the known tail.
 */
export type ParameterKind = 'k' | 'activationEnergy' | 'order';

export interface ParameterRef {
  /** Canonical path, e.g. `reactions.nitration.k`. */
  path: string;
  reaction: string;
  kind: ParameterKind;
  /** For orders. */
  species?: string;
}

/** Parses and checks a parameter path against a recipe. Throws CalibrationError('PARAMETER_INVALID'). */
export function parseParameterPath(path: string, recipe: Recipe): ParameterRef {
  const trimmed = path.trim();
  const invalid = (message: string): never => {
    throw new CalibrationError('PARAMETER_INVALID', `parameter "${trimmed}": ${message}`, [
      { column: trimmed, message },
    ]);
  };
  if (!trimmed.startsWith('reactions.')) {
    invalid(
      'expected reactions.<id>.k, reactions.<id>.activationEnergy or reactions.<id>.orders.<species>',
    );
  }
  const rest = trimmed.slice('reactions.'.length);
  const ids = recipe.reactions.map((r) => r.id);
  // Longest reaction id that prefixes the rest followed by a dot: ids may contain dots.
  const reaction = ids
    .filter((id) => rest.startsWith(`${id}.`))
    .sort((a, b) => b.length - a.length)[0];
  if (reaction === undefined) {
    const guess = rest.split('.')[0] ?? '';
    return invalid(`unknown reaction "${guess}"; the recipe has ${ids.join(', ')}`);
  }
  const tail = rest.slice(reaction.length + 1);
  if (tail === 'k') return { path: `reactions.${reaction}.k`, reaction, kind: 'k' };
  if (tail === 'activationEnergy' || tail === 'Ea') {
    return { path: `reactions.${reaction}.activationEnergy`, reaction, kind: 'activationEnergy' };
  }
  if (tail.startsWith('orders.')) {
    const species = tail.slice('orders.'.length);
    if (!recipe.species.some((s) => s.id === species)) {
      return invalid(
        `unknown species "${species}"; the recipe has ${recipe.species.map((s) => s.id).join(', ')}`,
      );
    }
    return { path: `reactions.${reaction}.orders.${species}`, reaction, kind: 'order', species };
  }
  return invalid(
    `"${tail}" is not a fittable field of reaction "${reaction}"; use k, activationEnergy or orders.<species>`,
  );
}

/** Parses a list of paths; refuses duplicates. */
export function parseParameterPaths(paths: readonly string[], recipe: Recipe): ParameterRef[] {
  if (paths.length === 0) {
    throw new CalibrationError(
      'PARAMETER_INVALID',
      'choose at least one parameter to fit, e.g. reactions.<id>.k',
    );
  }
  const refs = paths.map((p) => parseParameterPath(p, recipe));
  const seen = new Set<string>();
  for (const ref of refs) {
    if (seen.has(ref.path)) {
      throw new CalibrationError('PARAMETER_INVALID', `parameter "${ref.path}" is listed twice`, [
        { column: ref.path, message: 'listed twice' },
      ]);
    }
    seen.add(ref.path);
  }
  return refs;
}

/** The parameter's current value in the recipe (an order the rate law omits is 0). */
export function getParameter(recipe: Recipe, ref: ParameterRef): number {
  const reaction = reactionOf(recipe, ref);
  switch (ref.kind) {
    case 'k':
      return reaction.rateLaw.k.value;
    case 'activationEnergy':
      return reaction.rateLaw.activationEnergy;
    case 'order':
      return reaction.rateLaw.orders[ref.species ?? ''] ?? 0;
  }
}

/**
 * A copy of the recipe with the parameters set. Only the touched reactions are copied; the rest
 * is shared with the original (recipes are treated as immutable), so this costs microseconds.
 */
export function withParameters(
  recipe: Recipe,
  refs: readonly ParameterRef[],
  values: readonly number[],
): Recipe {
  const touched = new Map<string, ReactionSpec>();
  refs.forEach((ref, i) => {
    const value = values[i];
    if (value === undefined) throw new RangeError(`no value for parameter ${ref.path}`);
    let reaction = touched.get(ref.reaction);
    if (!reaction) {
      const original = reactionOf(recipe, ref);
      reaction = {
        ...original,
        rateLaw: {
          ...original.rateLaw,
          k: { ...original.rateLaw.k },
          orders: { ...original.rateLaw.orders },
        },
      };
      touched.set(ref.reaction, reaction);
    }
    if (ref.kind === 'k') reaction.rateLaw.k.value = value;
    else if (ref.kind === 'activationEnergy') reaction.rateLaw.activationEnergy = value;
    else reaction.rateLaw.orders[ref.species ?? ''] = value;
  });
  return { ...recipe, reactions: recipe.reactions.map((r) => touched.get(r.id) ?? r) };
}

/** Unit of the parameter as written in the recipe; for k it depends on the total order. */
export function parameterUnit(recipe: Recipe, ref: ParameterRef): string {
  if (ref.kind === 'activationEnergy') return 'kJ/mol';
  if (ref.kind === 'order') return '-';
  const reaction = reactionOf(recipe, ref);
  const order = Object.values(reaction.rateLaw.orders).reduce((sum, o) => sum + o, 0);
  const at = `at ${reaction.rateLaw.k.referenceTemperature} °C`;
  if (Math.abs(order - 1) < 1e-12) return `1/s ${at}`;
  if (Math.abs(order - 2) < 1e-12) return `L/(mol·s) ${at}`;
  if (Math.abs(order) < 1e-12) return `mol/(L·s) ${at}`;
  return `(mol/L)^${formatNumber(1 - order)}/s ${at}`;
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function reactionOf(recipe: Recipe, ref: ParameterRef): ReactionSpec {
  const reaction = recipe.reactions.find((r) => r.id === ref.reaction);
  if (!reaction)
    throw new CalibrationError('PARAMETER_INVALID', `unknown reaction "${ref.reaction}"`);
  return reaction;
}
