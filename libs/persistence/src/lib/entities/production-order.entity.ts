import { Column, Entity, Index, PrimaryColumn, VersionColumn } from 'typeorm';
import { INSTANT } from './columns';
import type { OrderState } from '../orders/order-states';

/**
 * A production request from the ERP (ISA-95 / B2MML ProductionRequest): make `quantity` of
 * `product` in this cell. Its state follows the ISA-95 request states (orders/order-states.ts).
 */
@Entity({ name: 'production_order' })
@Index('production_order_idempotency', ['clientId', 'idempotencyKey'], { unique: true })
@Index('production_order_state', ['state', 'createdAt'])
export class ProductionOrderEntity {
  /** The cell's id for the order (a UUID). */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** The ERP's own order number, as it sent it. */
  @Column({ type: 'varchar', length: 64 })
  erpReference!: string;

  /** The API client that created the order and the key it sent to make the call idempotent. */
  @Column({ type: 'varchar', length: 64 })
  clientId!: string;

  @Column({ type: 'varchar', length: 128 })
  idempotencyKey!: string;

  /** SHA-256 of the creating request's body: a replay with another body is refused. */
  @Column({ type: 'varchar', length: 64 })
  requestHash!: string;

  @Column({ type: 'varchar', length: 64 })
  product!: string;

  @Column({ type: 'double precision' })
  quantity!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: OrderState;

  /** Lower runs first. */
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Column({ ...INSTANT, nullable: true })
  dueAt!: string | null;

  /** Made so far, in `unit`, in specification. */
  @Column({ type: 'double precision', default: 0 })
  producedQuantity!: number;

  /** The lot the order's product goes into (made when production starts). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  outputLotId!: string | null;

  @Column(INSTANT)
  createdAt!: string;

  @Column(INSTANT)
  updatedAt!: string;

  @Column({ ...INSTANT, nullable: true })
  startedAt!: string | null;

  @Column({ ...INSTANT, nullable: true })
  endedAt!: string | null;

  /** Optimistic lock: two concurrent state changes cannot both win. */
  @VersionColumn()
  version!: number;
}
