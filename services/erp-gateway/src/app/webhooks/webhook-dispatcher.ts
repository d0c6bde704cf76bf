import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { backoffDelay } from '@pipac/bus';
import type { WebhookDeliveryEntity } from '@pipac/persistence';
import {
  DEFAULT_WEBHOOK_RETRY,
  GATEWAY_OPTIONS,
  type ErpGatewayOptions,
  type WebhookRetryOptions,
} from '../gateway-options';
import { Stores } from '../stores';
import { postWebhook } from './webhook-post';
import { WEBHOOK_HEADERS, signWebhook } from './webhook-signature';
import { WebhookTargetPolicy } from './webhook-target-policy';
import { METRICS, counter } from '@pipac/telemetry';

/**
 * Tells the ERP about every order state change. The event is written to the outbox in the
 * same transaction as the change, by whichever process makes it (notifyOrderStateChanges in
 * @pipac/persistence: so none is lost, even if a process dies right after), and this loop
 * sends each one, signed, to every subscription, retrying with exponential
 * back-off until the receiver answers 2xx, or marking it failed after `maxAttempts`.
 * Deliveries to one subscription go out in order (a retry holds back the events after it), so
 * the ERP sees an order's states in sequence. They are at least once; the event id header
 * lets receivers drop repeats.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly retry: WebhookRetryOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly deliveries = counter(METRICS.webhookDeliveries);

  constructor(
    @Inject(Stores) private readonly stores: Stores,
    @Inject(GATEWAY_OPTIONS) options: ErpGatewayOptions,
    @Inject(WebhookTargetPolicy) private readonly targets: WebhookTargetPolicy,
  ) {
    this.retry = { ...DEFAULT_WEBHOOK_RETRY, ...options.webhooks };
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Delivers everything due now (the loop does this every `pollMs`). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.deliverDue().finally(() => (this.running = undefined));
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flush()
        .catch((error: unknown) =>
          process.stderr.write(`erp-gateway: webhook delivery: ${String(error)}\n`),
        )
        .finally(() => this.schedule());
    }, this.retry.pollMs);
    this.timer.unref();
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      const due = await this.stores.webhooks.due(50);
      if (due.length === 0) return;
      for (const delivery of due) {
        if (this.stopped) return;
        await this.deliver(delivery);
      }
      if (due.length < 50) return;
    }
  }

  private async deliver(delivery: WebhookDeliveryEntity): Promise<void> {
    const subscription = await this.stores.webhooks.subscription(delivery.subscriptionId);
    const attempts = delivery.attempts + 1;
    if (!subscription || subscription.revokedAt) {
      await this.stores.webhooks.attemptFailed(delivery.id, attempts, 'subscription revoked');
      return;
    }
    // Wall-clock time: the receiver checks the signature's freshness against its own clock.
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string;
    try {
      const status = await postWebhook(
        subscription.url,
        {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.id]: delivery.eventId,
          [WEBHOOK_HEADERS.type]: delivery.eventType,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(
            subscription.secret,
            timestamp,
            delivery.payload,
          ),
        },
        delivery.payload,
        { policy: this.targets, timeoutMs: this.retry.timeoutMs },
      );
      if (status >= 200 && status < 300) {
        await this.stores.webhooks.delivered(delivery.id, attempts);
        this.deliveries.add(1, { outcome: 'delivered' });
        return;
      }
      error = `HTTP ${status}`;
    } catch (cause) {
      error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    }
    this.deliveries.add(1, { outcome: 'failed' });
    if (attempts >= this.retry.maxAttempts) {
      await this.stores.webhooks.attemptFailed(
        delivery.id,
        attempts,
        `${error}; gave up after ${attempts} attempts`,
      );
      return;
    }
    const delay = backoffDelay(attempts - 1, {
      initialMs: this.retry.initialDelayMs,
      maxMs: this.retry.maxDelayMs,
    });
    await this.stores.webhooks.attemptFailed(delivery.id, attempts, error, Date.now() + delay);
  }
}
