import { randomBytes, randomUUID } from 'node:crypto';
import { IsNull, LessThanOrEqual, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { WebhookDeliveryEntity, WebhookSubscriptionEntity } from '../entities/webhook.entity';

export interface WebhookEvent {
  /** Unique per event: receivers deduplicate by it. */
  id: string;
  type: string;
  /** The JSON body as it will be signed and sent. */
  payload: string;
}

/** Webhook subscriptions and the outbox of deliveries owed to them. */
export class WebhookStore {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  async subscribe(
    clientId: string,
    url: string,
    events: string[] = [],
  ): Promise<WebhookSubscriptionEntity> {
    const subscription: WebhookSubscriptionEntity = {
      id: randomUUID(),
      clientId,
      url,
      secret: randomBytes(32).toString('base64url'),
      events,
      createdAt: new Date(this.clock()).toISOString(),
      revokedAt: null,
    };
    await this.db.transaction((m) => m.insert(WebhookSubscriptionEntity, subscription));
    return subscription;
  }

  async subscriptions(clientId?: string): Promise<WebhookSubscriptionEntity[]> {
    return this.db.manager.getRepository(WebhookSubscriptionEntity).find({
      where: { revokedAt: IsNull(), ...(clientId ? { clientId } : {}) },
      order: { createdAt: 'ASC' },
    });
  }

  async subscription(id: string): Promise<WebhookSubscriptionEntity | undefined> {
    return (
      (await this.db.manager.getRepository(WebhookSubscriptionEntity).findOneBy({ id })) ??
      undefined
    );
  }

  async unsubscribe(id: string): Promise<void> {
    await this.db.transaction((m) =>
      m
        .getRepository(WebhookSubscriptionEntity)
        .update({ id }, { revokedAt: new Date(this.clock()).toISOString() }),
    );
  }

  /** Owes `event` to every subscription that wants it, inside the caller's transaction. */
  async enqueue(manager: EntityManager, event: WebhookEvent): Promise<number> {
    const subscriptions = await manager
      .getRepository(WebhookSubscriptionEntity)
      .findBy({ revokedAt: IsNull() });
    const now = new Date(this.clock()).toISOString();
    const wanted = subscriptions.filter(
      (s) => s.events.length === 0 || s.events.includes(event.type),
    );
    if (wanted.length === 0) return 0;
    await manager.insert(
      WebhookDeliveryEntity,
      wanted.map((s) => ({
        subscriptionId: s.id,
        eventId: event.id,
        eventType: event.type,
        payload: event.payload,
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        createdAt: now,
        deliveredAt: null,
      })),
    );
    return wanted.length;
  }

  /** Pending deliveries whose time has come, oldest first. */
  async due(limit = 50): Promise<WebhookDeliveryEntity[]> {
    return this.db.manager.getRepository(WebhookDeliveryEntity).find({
      where: {
        status: 'pending',
        nextAttemptAt: LessThanOrEqual(new Date(this.clock()).toISOString()),
      },
      order: { id: 'ASC' },
      take: limit,
    });
  }

  async delivered(id: number, attempts: number): Promise<void> {
    await this.db.transaction((m) =>
      m
        .getRepository(WebhookDeliveryEntity)
        .update(
          { id },
          {
            status: 'delivered',
            attempts,
            deliveredAt: new Date(this.clock()).toISOString(),
            lastError: null,
          },
        ),
    );
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or given up (`failed`). */
  async attemptFailed(
    id: number,
    attempts: number,
    error: string,
    nextAttemptAt?: number,
  ): Promise<void> {
    await this.db.transaction((m) =>
      m
        .getRepository(WebhookDeliveryEntity)
        .update(
          { id },
          nextAttemptAt === undefined
            ? { status: 'failed', attempts, lastError: error }
            : { attempts, lastError: error, nextAttemptAt: new Date(nextAttemptAt).toISOString() },
        ),
    );
  }

  async deliveries(eventId?: string): Promise<WebhookDeliveryEntity[]> {
    return this.db.manager
      .getRepository(WebhookDeliveryEntity)
      .find({ where: eventId ? { eventId } : {}, order: { id: 'ASC' } });
  }
}
