import { dirname, resolve } from 'node:path';
import {
  CONFIG_SCHEMA,
  auditSettings,
  type AuditSettings,
  databaseUrl,
  httpEndpoint,
  kafkaBrokers,
  readConfigFile,
  telemetrySettings,
  type TelemetrySettings,
} from '@pipac/config';

/** The coordinator's configuration file (YAML or JSON), after validation and defaults. */
export interface CoordinatorConfig {
  site: string;
  cell: string;
  /** Recipe file (paths relative to the configuration file). */
  recipe: string;
  /** PIPAC_DATABASE_URL overrides. */
  database: string;
  /**
   * The audit trail's signing keys and exported head (PIPAC_AUDIT_KEYS overrides the keys).
   * @default none: appends are not signed
   */
  audit?: AuditSettings;
  /** PIPAC_KAFKA_BROKERS (comma-separated) overrides. */
  kafkaBrokers: string[];
  /** @default 60 */
  cycleSeconds: number;
  /** Health endpoints. @default 0.0.0.0:8080 */
  http: { host: string; port: number };
  /** Prometheus endpoint (default 0.0.0.0:9464), OTLP export. */
  telemetry: TelemetrySettings;
}

const SCHEMA = {
  type: 'object',
  required: ['site', 'cell', 'recipe'],
  additionalProperties: false,
  properties: {
    site: CONFIG_SCHEMA.segment,
    cell: CONFIG_SCHEMA.segment,
    recipe: { type: 'string', minLength: 1 },
    database: CONFIG_SCHEMA.database,
    audit: CONFIG_SCHEMA.audit,
    kafkaBrokers: CONFIG_SCHEMA.kafkaBrokers,
    cycleSeconds: { type: 'number', minimum: 1 },
    http: CONFIG_SCHEMA.http,
    telemetry: CONFIG_SCHEMA.telemetry,
  },
} as const;

/** Reads and checks the configuration; a mistake stops start-up naming the file and the field. */
export function loadCoordinatorConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): CoordinatorConfig {
  const raw = readConfigFile<
    Partial<CoordinatorConfig> & Pick<CoordinatorConfig, 'site' | 'cell' | 'recipe'>
  >(path, SCHEMA);
  return {
    site: raw.site,
    cell: raw.cell,
    recipe: resolve(dirname(path), raw.recipe),
    database: databaseUrl(path, raw.database, env),
    ...optional('audit', auditSettings(path, raw.audit, env)),
    kafkaBrokers: kafkaBrokers(path, raw.kafkaBrokers, env),
    cycleSeconds: raw.cycleSeconds ?? 60,
    http: httpEndpoint(raw.http),
    telemetry: telemetrySettings(raw.telemetry, 'coordinator'),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]?: V });
}
