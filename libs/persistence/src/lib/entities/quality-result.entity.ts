import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { INSTANT } from './columns';

/**
 * An inline analyser's result while a lot was being made (ISA-95 QA test result): the batch
 * record's quality evidence. Stamped with the time the sample was drawn.
 */
@Entity({ name: 'quality_result' })
@Index('quality_result_lot', ['lotId', 'sampledAt'])
export class QualityResultEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 36, nullable: true })
  orderId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  lotId!: string;

  @Column({ type: 'varchar', length: 64 })
  step!: string;

  /** The analyser's tag, e.g. `AT-301.conversion`. */
  @Column({ type: 'varchar', length: 128 })
  tag!: string;

  @Column({ type: 'double precision' })
  value!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  /** The value against the step's specification. */
  @Column({ type: 'boolean' })
  inSpec!: boolean;

  @Column(INSTANT)
  sampledAt!: string;
}
