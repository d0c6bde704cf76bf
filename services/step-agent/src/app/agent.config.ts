import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { StepMode } from './step-agent';

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
}

const SEGMENT = '^[a-z0-9][a-z0-9-]{0,62}$';
const SCHEMA = {
  type: 'object',
  required: ['site', 'cell', 'step', 'recipe', 'models'],
  additionalProperties: false,
  properties: {
    site: { type: 'string', pattern: SEGMENT },
    cell: { type: 'string', pattern: SEGMENT },
    step: { type: 'string', pattern: SEGMENT },
    recipe: { type: 'string', minLength: 1 },
    models: { type: 'string', minLength: 1 },
    mode: { enum: ['offline', 'operator', 'automatic'] },
    shadow: { type: 'boolean' },
    cycleSeconds: { type: 'number', minimum: 1 },
    modelPollSeconds: { type: 'number', minimum: 0 },
    kafkaBrokers: { type: 'array', items: { type: 'string', pattern: '^[^:]+:[0-9]+$' } },
    http: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
}

/** Reads and checks the configuration; a mistake stops start-up naming the file and the field. */
export function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  if (!validate(document)) {
    const reasons = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''}`,
    );
    throw new ConfigError(`${path}: ${reasons.join('; ')}`);
  }
  const raw = document as Partial<AgentConfig> &
    Pick<AgentConfig, 'site' | 'cell' | 'step' | 'recipe' | 'models'>;
  const base = dirname(path);
  const brokers =
    env['PIPAC_KAFKA_BROKERS']
      ?.split(',')
      .map((b) => b.trim())
      .filter(Boolean) ??
    raw.kafkaBrokers ??
    [];
  if (brokers.length === 0)
    throw new ConfigError(`${path}: no Kafka brokers (set /kafkaBrokers or PIPAC_KAFKA_BROKERS)`);
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
    kafkaBrokers: brokers,
    http: { host: raw.http?.host ?? '0.0.0.0', port: raw.http?.port ?? 8080 },
  };
}
