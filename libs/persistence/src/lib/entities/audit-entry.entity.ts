import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { INSTANT } from './columns';

export type ActorKind = 'user' | 'client' | 'agent' | 'system';

/**
 * One entry of the audit trail (21 CFR Part 11 §11.10(e), ALCOA+): who, when, where, what (old
 * and new value), why, the trace and the model version. Append-only: the migrations add
 * triggers that refuse UPDATE and DELETE, and each entry's hash covers its fields and the
 * previous entry's hash, so an edit that gets past the triggers breaks the chain.
 */
@Entity({ name: 'audit_entry' })
@Index('audit_entry_order', ['orderId', 'sequence'])
@Index('audit_entry_lot', ['lotId', 'sequence'])
export class AuditEntryEntity {
  /** 1, 2, 3, … without gaps. */
  @PrimaryColumn({ type: 'integer' })
  sequence!: number;

  @Column(INSTANT)
  at!: string;

  @Column({ type: 'varchar', length: 16 })
  actorKind!: ActorKind;

  @Column({ type: 'varchar', length: 128 })
  actor!: string;

  @Column({ type: 'varchar', length: 64 })
  cell!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  step!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  device!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  orderId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  lotId!: string | null;

  /** What changed, e.g. `setpoint`, `mode`, `order.state`, `model.deployed`, `alarm`, `quality`. */
  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  /** The object changed: a tag, an order id, a model version. */
  @Column({ type: 'varchar', length: 128 })
  object!: string;

  @Column({ type: 'text', nullable: true })
  oldValue!: string | null;

  @Column({ type: 'text', nullable: true })
  newValue!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  unit!: string | null;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  traceId!: string | null;

  /** `sha256:<hex>` of the policy's ONNX file. */
  @Column({ type: 'varchar', length: 80, nullable: true })
  modelVersion!: string | null;

  @Column({ type: 'varchar', length: 64 })
  previousHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
