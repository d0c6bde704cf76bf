import { UsageError } from './usage.error';

const UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86400 };

export interface DurationOptions {
  /** Accept a zero duration ('0', '0s', '0m', '0h'…), e.g. for "none". @default false */
  allowZero?: boolean;
}

/** Parses '90', '90s', '15m', '8h', '1.5d' into seconds. */
export function parseDuration(text: string, option: string, options: DurationOptions = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`${option}: "${text}" is not a duration (use e.g. 600, 30m, 8h)`);
  const seconds = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
  if (!Number.isFinite(seconds)) throw new UsageError(`${option}: "${text}" is too long`);
  if (seconds === 0 && options.allowZero) return 0;
  if (!(seconds > 0))
    throw new UsageError(
      `${option}: "${text}" must be positive${options.allowZero ? ' (or 0 for none)' : ''}`,
    );
  return seconds;
}

/** A positive finite number option. */
export function parsePositive(text: string, option: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`${option}: "${text}" is not a positive number`);
  return value;
}

/** Seconds for people: '42 s', '2 min 5 s', '2 h 3 min'. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
