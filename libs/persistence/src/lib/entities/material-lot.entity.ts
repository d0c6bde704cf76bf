import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { INSTANT } from './columns';

export type LotStatus = 'in-process' | 'complete' | 'consumed' | 'rejected';

/**
 * A material lot (ISA-95 MaterialLot): a raw-material batch fed to the cell, an intermediate
 * made by a step, or the final product of an order.
 */
@Entity({ name: 'material_lot' })
@Index('material_lot_order', ['orderId'])
export class MaterialLotEntity {
  /** The lot number, e.g. `PO-1234/acetylation/1` or the supplier's batch number. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  /** The material's id in the recipe (e.g. `4-aminophenol`). */
  @Column({ type: 'varchar', length: 64 })
  material!: string;

  /** The step that made it; null for a raw material. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  step!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  orderId!: string | null;

  @Column({ type: 'double precision', default: 0 })
  quantity!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: LotStatus;

  @Column(INSTANT)
  createdAt!: string;

  @Column({ ...INSTANT, nullable: true })
  closedAt!: string | null;
}
