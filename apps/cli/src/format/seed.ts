import { UsageError } from './usage.error';

const MIN_SEED = -(2 ** 31);
const MAX_SEED = 2 ** 31 - 1;

/**
 * A random seed: a whole number in the signed 32-bit range. The twin's SeededRandom keeps only
 * `seed | 0`, so a larger value would silently collide with a smaller one (2^32 + 1 with 1).
 */
export function parseSeed(text: string, option = '--seed'): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw new UsageError(`${option}: "${text}" is not an integer`);
  const value = Number(trimmed);
  if (value < MIN_SEED || value > MAX_SEED)
    throw new UsageError(
      `${option}: ${trimmed} is outside the seed range ${MIN_SEED}..${MAX_SEED} (signed 32-bit)`,
    );
  // -0 and +0 are the same seed; write it as 0.
  return value === 0 ? 0 : value;
}
