import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { INSTANT } from './columns';

/**
 * Where a client wants order events delivered. The secret signs each delivery (HMAC-SHA256),
 * so it must be readable by the gateway: protect the database as you would the secret.
 */
@Entity({ name: 'webhook_subscription' })
export class WebhookSubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  clientId!: string;

  @Column({ type: 'varchar', length: 1024 })
  url!: string;

  @Column({ type: 'varchar', length: 128 })
  secret!: string;

  /** Event types delivered, e.g. `order.state-changed`; empty means all. */
  @Column({ type: 'simple-json' })
  events!: string[];

  @Column(INSTANT)
  createdAt!: string;

  @Column({ ...INSTANT, nullable: true })
  revokedAt!: string | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * One event owed to one subscription (a transactional outbox): written in the same
 * transaction as the change it reports, delivered and retried with back-off until the
 * receiver acknowledges it with a 2xx. Unique per subscription and event: each is sent once
 * (at least once on the wire; receivers deduplicate by the event id header).
 */
@Entity({ name: 'webhook_delivery' })
@Index('webhook_delivery_event', ['subscriptionId', 'eventId'], { unique: true })
@Index('webhook_delivery_due', ['status', 'nextAttemptAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 36 })
  subscriptionId!: string;

  @Column({ type: 'varchar', length: 64 })
  eventId!: string;

  @Column({ type: 'varchar', length: 64 })
  eventType!: string;

  /** The JSON body exactly as signed and sent. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column(INSTANT)
  nextAttemptAt!: string;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @Column(INSTANT)
  createdAt!: string;

  @Column({ ...INSTANT, nullable: true })
  deliveredAt!: string | null;
}
