import { dirname, resolve } from 'node:path';
import {
  CONFIG_SCHEMA,
  ConfigError,
  auditSettings,
  databaseUrl,
  httpEndpoint,
  kafkaBrokers,
  readConfigFile,
  telemetrySettings,
  type AuditSettings,
  type TelemetrySettings,
} from '@pipac/config';
import { OIDC_CONFIG_SCHEMA, resolveOidcOptions, type OidcOptions } from './auth/oidc.options';
import type { WebhookOptions } from './gateway-options';
import { WebhookTargetPolicy } from './webhooks/webhook-target-policy';

/** The gateway's configuration file (YAML or JSON), after validation and defaults. */
export interface GatewayConfig {
  site: string;
  cell: string;
  /** Recipe file (paths relative to the configuration file): the steps, the product, the name. */
  recipe: string;
  /** Deployed models: <models>/<step>/policy.onnx, shared with the step agents. */
  models: string;
  /** PIPAC_DATABASE_URL overrides. */
  database: string;
  /**
   * The audit trail's signing keys (PIPAC_AUDIT_KEYS overrides); the gateway appends (orders,
   * clients, models, refusals), so it signs like the coordinator. @default none: not signed
   */
  audit: AuditSettings | undefined;
  /** PIPAC_KAFKA_BROKERS (comma-separated) overrides. */
  kafkaBrokers: string[];
  /** REST API and probes. @default 0.0.0.0:8080 */
  http: { host: string; port: number };
  /** Prometheus endpoint (default 0.0.0.0:9464), OTLP export. */
  telemetry: TelemetrySettings;
  webhooks: Partial<WebhookOptions>;
  /** Single sign-on with the plant's OpenID provider. @default undefined (API keys only) */
  oidc: OidcOptions | undefined;
}

const SCHEMA = {
  type: 'object',
  required: ['site', 'cell', 'recipe', 'models'],
  additionalProperties: false,
  properties: {
    site: CONFIG_SCHEMA.segment,
    cell: CONFIG_SCHEMA.segment,
    recipe: { type: 'string', minLength: 1 },
    models: { type: 'string', minLength: 1 },
    database: CONFIG_SCHEMA.database,
    audit: CONFIG_SCHEMA.audit,
    kafkaBrokers: CONFIG_SCHEMA.kafkaBrokers,
    http: CONFIG_SCHEMA.http,
    telemetry: CONFIG_SCHEMA.telemetry,
    webhooks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        initialDelayMs: { type: 'integer', minimum: 1 },
        maxDelayMs: { type: 'integer', minimum: 1 },
        maxAttempts: { type: 'integer', minimum: 1 },
        timeoutMs: { type: 'integer', minimum: 1 },
        pollMs: { type: 'integer', minimum: 10 },
        allowNetworks: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 },
      },
    },
    oidc: OIDC_CONFIG_SCHEMA,
  },
} as const;

/** Reads and checks the configuration; a mistake stops start-up naming the file and the field. */
export function loadGatewayConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  const raw = readConfigFile<
    Partial<GatewayConfig> & Pick<GatewayConfig, 'site' | 'cell' | 'recipe' | 'models'>
  >(path, SCHEMA);
  const base = dirname(path);
  try {
    // Only to check the networks now, naming the file, rather than when the gateway starts.
    new WebhookTargetPolicy(raw.webhooks?.allowNetworks ?? []);
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  try {
    if (raw.oidc) resolveOidcOptions(raw.oidc);
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  return {
    site: raw.site,
    cell: raw.cell,
    recipe: resolve(base, raw.recipe),
    models: resolve(base, raw.models),
    database: databaseUrl(path, raw.database, env),
    audit: auditSettings(path, raw.audit, env),
    kafkaBrokers: kafkaBrokers(path, raw.kafkaBrokers, env),
    http: httpEndpoint(raw.http),
    telemetry: telemetrySettings(raw.telemetry, 'erp-gateway'),
    webhooks: raw.webhooks ?? {},
    oidc: raw.oidc,
  };
}
