import { dirname, resolve } from 'node:path';
import {
  CONFIG_SCHEMA,
  httpEndpoint,
  kafkaBrokers,
  readConfigFile,
  telemetrySettings,
  type TelemetrySettings,
} from '@pipac/config';
import type { StepMode } from '@pipac/control';

export { ConfigError } from '@pipac/config';

/** The step agent's configuration file (YAML or JSON), after validation and defaults. */
export interface AgentConfig {
  site: string;
  cell: string;
  step: string;
  /** Recipe file (paths relative to the configuration file). */
  recipe: string;
  /** Deployed models: <models>/<step>/policy.onnx and policy.card.json. */
  models: string;
  /** @default 'operator' */
  mode: StepMode;
  /** @default false */
  shadow: boolean;
  /** @default 60 */
  cycleSeconds: number;
  /** @default 5 */
  modelPollSeconds: number;
  /** PIPAC_KAFKA_BROKERS (comma-separated) overrides. */
  kafkaBrokers: string[];
  /** Health endpoints. @default 0.0.0.0:8080 */
  http: { host: string; port: number };
  /** Prometheus endpoint (default 0.0.0.0:9464), OTLP export. */
  telemetry: TelemetrySettings;
}

const SCHEMA = {
  type: 'object',
  required: ['site', 'cell', 'step', 'recipe', 'models'],
  additionalProperties: false,
  properties: {
    site: CONFIG_SCHEMA.segment,
    cell: CONFIG_SCHEMA.segment,
    step: CONFIG_SCHEMA.segment,
    recipe: { type: 'string', minLength: 1 },
    models: { type: 'string', minLength: 1 },
    mode: { enum: ['offline', 'operator', 'automatic'] },
    shadow: { type: 'boolean' },
    cycleSeconds: { type: 'number', minimum: 1 },
    modelPollSeconds: { type: 'number', minimum: 0 },
    kafkaBrokers: CONFIG_SCHEMA.kafkaBrokers,
    http: CONFIG_SCHEMA.http,
    telemetry: CONFIG_SCHEMA.telemetry,
  },
} as const;

/** Reads and checks the configuration; a mistake stops start-up naming the file and the field. */
export function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw = readConfigFile<
    Partial<AgentConfig> & Pick<AgentConfig, 'site' | 'cell' | 'step' | 'recipe' | 'models'>
  >(path, SCHEMA);
  const base = dirname(path);
  return {
    site: raw.site,
    cell: raw.cell,
    step: raw.step,
    recipe: resolve(base, raw.recipe),
    models: resolve(base, raw.models),
    mode: raw.mode ?? 'operator',
    shadow: raw.shadow ?? false,
    cycleSeconds: raw.cycleSeconds ?? 60,
    modelPollSeconds: raw.modelPollSeconds ?? 5,
    kafkaBrokers: kafkaBrokers(path, raw.kafkaBrokers, env),
    http: httpEndpoint(raw.http),
    telemetry: telemetrySettings(raw.telemetry, `step-agent.${raw.step}`),
  };
}
