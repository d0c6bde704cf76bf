import type { EventBus } from '@pipac/bus';
import type { Database } from '@pipac/persistence';
import type { PlantModel } from '@pipac/recipe';
import type { OidcOptions } from './auth/oidc.options';

export interface WebhookRetryOptions {
  /** First retry after this, ms; each next one waits twice as long. @default 1000 */
  initialDelayMs: number;
  /** Longest wait between attempts, ms. @default 600_000 (10 min) */
  maxDelayMs: number;
  /** Attempts before a delivery is marked failed. @default 25 (about 3 h at the defaults) */
  maxAttempts: number;
  /** One attempt's time limit, ms. @default 10_000 */
  timeoutMs: number;
  /** How often due deliveries are looked for, ms. @default 500 */
  pollMs: number;
}

/** Where webhooks may be delivered, besides the retry settings. */
export interface WebhookOptions extends WebhookRetryOptions {
  /**
   * Networks (CIDR) webhooks may reach although they are loopback, link-local or cloud
   * metadata addresses, refused otherwise (WebhookTargetPolicy), e.g. `['127.0.0.0/8']` for a
   * receiver on the gateway's own host. Checked at start-up. @default [] (none)
   */
  allowNetworks: string[];
}

export interface ErpGatewayOptions {
  site: string;
  cell: string;
  /** Steps of the cell, in process order (operator endpoints refuse others). */
  steps: string[];
  /** The recipe's name (the model registry's key). */
  recipe: string;
  /** What the cell makes (orders for anything else are refused). */
  product: string;
  db: Database;
  bus: EventBus;
  /** Where deployed models live: <modelsDir>/<step>/policy.onnx (the agents reload from there). */
  modelsDir: string;
  /** @default Date.now */
  clock?: () => number;
  webhooks?: Partial<WebhookOptions>;
  /**
   * Single sign-on: bearer tokens from the plant's OpenID provider, beside API keys.
   * @default undefined (API keys only)
   */
  oidc?: OidcOptions;
  /**
   * The compiled plant. With it, an operator's setpoint is checked at the REST edge (step,
   * tag, unit, engineering limits: refused with a 4xx and audited) and addressed to the
   * step's module; without it, the command goes out as given for the adapter to check (every
   * service passes it; some specs of other endpoints do not).
   * @default none
   */
  plant?: PlantModel;
  /**
   * How long an operator's setpoint stays valid on its way to the device, ms of the gateway's
   * clock (a cell that runs faster than real time scales it, so a person still gets 30 s of
   * wall time). @default 30_000
   */
  setpointDeadlineMs?: number;
}

export const GATEWAY_OPTIONS = Symbol('ERP_GATEWAY_OPTIONS');

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryOptions = {
  initialDelayMs: 1000,
  maxDelayMs: 600_000,
  maxAttempts: 25,
  timeoutMs: 10_000,
  pollMs: 500,
};
