import { UsageError } from './usage.error';

const UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** Parses '90', '90s', '15m', '8h', '1.5d' into seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`${option}: "${text}" is not a duration (use e.g. 600, 30m, 8h)`);
  const seconds = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
  if (!(seconds > 0)) throw new UsageError(`${option}: must be positive`);
  return seconds;
}

/** A positive finite number option. */
export function parsePositive(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${option}: "${text}" is not a positive number`);
  return value;
}
