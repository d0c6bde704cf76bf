import { randomBytes, randomUUID } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
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

  /**
   * Deliveries to attempt now, oldest first: per subscription only the oldest pending one, and
   * only once its time has come. Deliveries to one subscription thus go out in order (an
   * order's states arrive in sequence); a delivery waiting for a retry holds back the ones
   * after it, until it is acknowledged or given up.
   */
  async due(limit = 50): Promise<WebhookDeliveryEntity[]> {
    const now = new Date(this.clock()).toISOString();
    const heads = this.db.manager
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('head')
      .select('MIN(head.id)')
      .where('head.status = :pending')
      .groupBy('head.subscriptionId');
    return this.db.manager
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .where(`d.id IN (${heads.getQuery()})`)
      .andWhere('d.nextAttemptAt <= :now', { now })
      .setParameter('pending', 'pending')
      .orderBy('d.id', 'ASC')
      .take(limit)
      .getMany();
  }

  async delivered(id: number, attempts: number): Promise<void> {
    await this.db.transaction((m) =>
      m.getRepository(WebhookDeliveryEntity).update(
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
