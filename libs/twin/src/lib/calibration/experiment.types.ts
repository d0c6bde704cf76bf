import type { StepConditions } from '../steady/steady-state.types';

/**
 * A measured outlet quantity: `c:<species>`, the outlet concentration in mol/L, or one of the
 * step's key figures (FIGURE_QUANTITIES, as `stepFigures` defines them): `conversion` of the
 * key reactant, `yield` of product per key reactant fed and `selectivity` per key reactant
 * converted (stoichiometry-corrected fractions, 0..1), `eFactor` (kg of everything fed that is
 * not product per kg of product).
 */
export type QuantityKey = `c:${string}` | FigureQuantity;

export const FIGURE_QUANTITIES = ['conversion', 'yield', 'selectivity', 'eFactor'] as const;
export type FigureQuantity = (typeof FIGURE_QUANTITIES)[number];

function isFigureQuantity(key: string): key is FigureQuantity {
  return (FIGURE_QUANTITIES as readonly string[]).includes(key);
}

/** One steady-state experiment: the conditions a step ran at and what was measured at its outlet. */
export interface Experiment {
  /** Label from the `id` column, else `row <n>`. */
  id: string;
  /** 1-based data row of the table it came from. */
  row: number;
  /** Line in the source file, where known (CSV). */
  line?: number;
  /** Step id; absent where the table leaves it to the recipe's only step or the caller's default. */
  step?: string;
  /** Conditions in recipe units; what the table leaves empty runs at the recipe's nominal. */
  conditions: StepConditions;
  /** The step's discrete conditions (StepSpec.choices): choice → option; left out, the default. */
  choices?: Record<string, string>;
  /** Measured quantity → value, mol/L or fraction. Only measured quantities are present. */
  measurements: Partial<Record<QuantityKey, number>>;
}

/** A parsed experiment table. */
export interface ExperimentTable {
  /** File name or other label, for messages and provenance. */
  source?: string;
  experiments: Experiment[];
  /**
   * Parameter values the table was generated with (synthetic tables only: CSV comment lines
   * `# truth: <path>=<value>`, or a `truth` map in YAML/JSON). Lets a demo check recovery.
   */
  truth?: Record<string, number>;
}

export function isQuantityKey(key: string): key is QuantityKey {
  return isFigureQuantity(key) || (key.startsWith('c:') && key.length > 2);
}

/** The species of a concentration quantity, or undefined for a key figure. */
export function quantitySpecies(key: QuantityKey): string | undefined {
  return isFigureQuantity(key) ? undefined : key.slice(2);
}

/** mol/L for concentrations, '-' for the fractions, kg/kg for the E-factor. */
export function quantityUnit(key: QuantityKey): string {
  if (key === 'eFactor') return 'kg/kg';
  return isFigureQuantity(key) ? '-' : 'mol/L';
}
