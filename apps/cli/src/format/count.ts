import { UsageError } from './usage.error';

/** A whole number of at least `min` from an option's text, or a usage error naming the option. */
export function parseCount(text: string | undefined, option: string, min = 1): number {
  const value = Number(text?.trim());
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < min)
    throw new UsageError(`${option}: expected an integer ≥ ${min}, got "${text ?? ''}"`);
  return value;
}
