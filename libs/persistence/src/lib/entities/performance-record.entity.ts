import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { INSTANT } from './columns';

export type PerformanceKind = 'produced' | 'consumed';

/**
 * How a quantity was found: `measured` from the plant's readings; `estimated` when part of it
 * rests on an assumption (a held last good value, a tank's assumed opening composition);
 * `unmeasured` when it could not be found at all (quantity 0, nothing booked, `note` says why).
 */
export type PerformanceBasis = 'measured' | 'estimated' | 'unmeasured';

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

  /** Of `quantity`, what was estimated rather than measured. */
  @Column({ type: 'double precision', default: 0 })
  estimatedQuantity!: number;

  @Column({ type: 'varchar', length: 16, default: 'measured' })
  basis!: PerformanceBasis;

  /** Why a quantity is estimated or unmeasured, or where a tank draw came from. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  note!: string | null;

  /**
   * mol of the step's key reactant: for `consumed`, what the input carried (0 for a reagent
   * without it); for `produced`, what the product needs by stoichiometry. Null when not known.
   * The batch record's stoichiometry check compares the two sums.
   */
  @Column({ type: 'double precision', nullable: true })
  keyMoles!: number | null;

  @Column(INSTANT)
  from!: string;

  @Column(INSTANT)
  to!: string;
}
