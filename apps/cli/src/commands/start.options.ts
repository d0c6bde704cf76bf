import { parseDuration, parsePositive } from '../format/duration';
import { UsageError } from '../format/usage.error';

/** The options of `pipac start`, as commander parses them (texts, not yet checked). */
export interface StartOptions {
  recipe: string;
  models?: string;
  timeFactor: string;
  order: string | false;
  scenario?: string;
  seed: string;
  db: string;
  state: string;
  auditKeys: string;
  host: string;
  port: string;
  kafka?: string;
  maxTime: string;
  refresh: string;
  keepRunning: boolean;
  metrics: string | false;
  otlp?: string;
  webhookAllow?: string[];
}

/** The numbers among the options of `pipac start`, checked. */
export interface StartSettings {
  /** Simulated seconds per wall-clock second. */
  timeFactor: number;
  /** Simulated seconds after which an order not complete gives up. */
  maxTime: number;
  /** Wall-clock seconds between two progress screens. */
  refresh: number;
  /** The REST API's port (0: any free port). */
  port: number;
  /** The demo order's quantity, g; undefined with --no-order. */
  grams: number | undefined;
}

/** Checks the numeric options; a bad one is a UsageError that names its flag. */
export function parseStartOptions(options: StartOptions): StartSettings {
  const timeFactor = parsePositive(options.timeFactor, '--time-factor');
  const maxTime = parseDuration(options.maxTime, '--max-time');
  const refresh = parsePositive(options.refresh, '--refresh');
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: "${options.port}" is not a port`);
  const grams = options.order === false ? undefined : parsePositive(options.order, '--order');
  return { timeFactor, maxTime, refresh, port, grams };
}

export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new UsageError(`${flag}: "${text}" is not host:port`);
  return { host: match[1]!, port };
}
