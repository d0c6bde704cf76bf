import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Ajv, { type Schema } from 'ajv';
import { parse as parseYaml } from 'yaml';

/** A service configuration that cannot be used: the message names the file and the field. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
}

/** JSON-schema pieces every service configuration shares. */
export const CONFIG_SCHEMA = {
  /** A topic path segment (site, cell, step). */
  segment: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
  kafkaBrokers: { type: 'array', items: { type: 'string', pattern: '^[^:]+:[0-9]+$' } },
  database: { type: 'string', minLength: 1 },
  audit: {
    type: 'object',
    additionalProperties: false,
    required: ['keys'],
    properties: {
      keys: { type: 'string', minLength: 1 },
      head: { type: 'string', minLength: 1 },
    },
  },
  http: {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', minLength: 1 },
      port: { type: 'integer', minimum: 0, maximum: 65535 },
    },
  },
  telemetry: {
    type: 'object',
    additionalProperties: false,
    properties: {
      serviceName: { type: 'string', minLength: 1 },
      prometheus: {
        oneOf: [
          { const: false },
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              host: { type: 'string', minLength: 1 },
              port: { type: 'integer', minimum: 0, maximum: 65535 },
            },
          },
        ],
      },
      otlp: {
        type: 'object',
        additionalProperties: false,
        properties: {
          endpoint: { type: 'string', pattern: '^https?://' },
          traces: { type: 'boolean' },
          metrics: { type: 'boolean' },
        },
      },
      sampleRatio: { type: 'number', minimum: 0, maximum: 1 },
    },
  },
} as const;

/**
 * Where the audit trail's keys are (a folder with `signing-key.pem` and `keyring.json`, e.g. a
 * mounted Secret) and where the process exports the signed head (a file on a volume of its own).
 */
export interface AuditSettings {
  keys: string;
  head?: string;
}

/**
 * The `audit:` block, paths resolved against the configuration file; PIPAC_AUDIT_KEYS overrides
 * the keys folder. Absent: the process does not sign (and says so at start).
 */
export function auditSettings(
  path: string,
  fromFile: AuditSettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): AuditSettings | undefined {
  const keys = env['PIPAC_AUDIT_KEYS']?.trim() || fromFile?.keys;
  if (!keys) return undefined;
  const base = dirname(path);
  return {
    keys: resolve(base, keys),
    ...(fromFile?.head ? { head: resolve(base, fromFile.head) } : {}),
  };
}

/** A service's `telemetry:` block, with defaults (libs/telemetry TelemetryOptions takes it). */
export interface TelemetrySettings {
  serviceName: string;
  /** false: no endpoint. @default 0.0.0.0:9464 */
  prometheus: { host: string; port: number } | false;
  /** OTLP over HTTP; OTEL_EXPORTER_OTLP_ENDPOINT also sets the endpoint. */
  otlp?: { endpoint?: string; traces?: boolean; metrics?: boolean };
  /** @default 1 */
  sampleRatio: number;
}

export interface TelemetryBlock {
  serviceName?: string;
  prometheus?: { host?: string; port?: number } | false;
  otlp?: { endpoint?: string; traces?: boolean; metrics?: boolean };
  sampleRatio?: number;
}

/** The telemetry settings of a service, `serviceName` defaulting to the service's own. */
export function telemetrySettings(
  raw: TelemetryBlock | undefined,
  serviceName: string,
): TelemetrySettings {
  const prometheus = raw?.prometheus;
  return {
    serviceName: raw?.serviceName ?? serviceName,
    prometheus:
      prometheus === false
        ? false
        : { host: prometheus?.host ?? '0.0.0.0', port: prometheus?.port ?? 9464 },
    ...(raw?.otlp ? { otlp: raw.otlp } : {}),
    sampleRatio: raw?.sampleRatio ?? 1,
  };
}

const ajv = new Ajv({ allErrors: true });

/**
 * Reads a YAML (or JSON) configuration file and checks it against `schema`; a mistake stops
 * start-up with `file: /field reason; …` for every problem at once.
 */
export function readConfigFile<T>(path: string, schema: Schema): T {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  const validate = ajv.compile(schema);
  if (!validate(document)) {
    const reasons = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''}`,
    );
    throw new ConfigError(`${path}: ${reasons.join('; ')}`);
  }
  return document as T;
}

/** The Kafka bootstrap servers: PIPAC_KAFKA_BROKERS (comma-separated) over the file's; at least one. */
export function kafkaBrokers(
  path: string,
  fromFile: string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const brokers =
    env['PIPAC_KAFKA_BROKERS']
      ?.split(',')
      .map((b) => b.trim())
      .filter(Boolean) ??
    fromFile ??
    [];
  if (brokers.length === 0)
    throw new ConfigError(`${path}: no Kafka brokers (set /kafkaBrokers or PIPAC_KAFKA_BROKERS)`);
  return brokers;
}

/** Where the health endpoints listen. @default 0.0.0.0:8080 */
export function httpEndpoint(raw: { host?: string; port?: number } | undefined): {
  host: string;
  port: number;
} {
  return { host: raw?.host ?? '0.0.0.0', port: raw?.port ?? 8080 };
}

/**
 * A service's HTTP server that could not listen, explained: which setting to change when
 * another process holds the port (copies of a service on one machine each need their own).
 * Any other error is returned as it was.
 */
export function explainListen(error: unknown, path: string): Error {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return error as Error;
  return new ConfigError(
    `${(error as Error).message}: another process has that port; give this service its own ` +
      `(http.port in ${path}, 0 for any free one)`,
  );
}

/**
 * The cell database: PIPAC_DATABASE_URL over the file's (so a password can come from a secret,
 * not the file); `sqlite:<file>` or `postgres://user:password@host:port/db`.
 */
export function databaseUrl(
  path: string,
  fromFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const url = env['PIPAC_DATABASE_URL']?.trim() || fromFile;
  if (!url) throw new ConfigError(`${path}: no database (set /database or PIPAC_DATABASE_URL)`);
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(url)) {
    throw new ConfigError(
      `${path}: /database must be sqlite:<file> or postgres://…, got "${url.replace(/:[^:@/]*@/, ':***@')}"`,
    );
  }
  return url;
}
