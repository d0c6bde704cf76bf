import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { INSTANT } from './columns';

export type PerformanceKind = 'produced' | 'consumed';

/**
 * Production performance (ISA-95 ProductionPerformance, material actuals): what a step made or
 * consumed for an order over one interval, in a lot. Summed per order, step and material.
 */
@Entity({ name: 'performance_record' })
@Index('performance_record_order', ['orderId', 'step', 'to'])
export class PerformanceRecordEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ type: 'varchar', length: 64 })
  step!: string;

  @Column({ type: 'varchar', length: 64 })
  lotId!: string;

  @Column({ type: 'varchar', length: 64 })
  material!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: PerformanceKind;

  @Column({ type: 'double precision' })
  quantity!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  /** Quantity in specification (the rest was made off-spec), for `produced`. */
  @Column({ type: 'double precision', default: 0 })
  inSpecQuantity!: number;

  @Column(INSTANT)
  from!: string;

  @Column(INSTANT)
  to!: string;
}
