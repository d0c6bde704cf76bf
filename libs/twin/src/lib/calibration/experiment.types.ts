import type { StepConditions } from '../steady/steady-state.types';

/**
 * A measured outlet quantity: `c:<species>`, the outlet concentration in mol/L, or
 * `conversion`, the fraction of the step's key reactant converted (0..1).
 */
export type QuantityKey = `c:${string}` | 'conversion';

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
  return key === 'conversion' || (key.startsWith('c:') && key.length > 2);
}

/** The species of a concentration quantity, or undefined for conversion. */
export function quantitySpecies(key: QuantityKey): string | undefined {
  return key === 'conversion' ? undefined : key.slice(2);
}

/** mol/L for concentrations, '-' (a fraction) for conversion. */
export function quantityUnit(key: QuantityKey): string {
  return key === 'conversion' ? '-' : 'mol/L';
}
