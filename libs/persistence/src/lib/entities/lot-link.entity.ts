import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { INSTANT } from './columns';

/**
 * Genealogy (ISA-95 material lot relationship): `quantity` of input lot `fromLotId` went into
 * output lot `toLotId` at `step`. A lot's ancestors and descendants are walks over these.
 */
@Entity({ name: 'lot_link' })
@Index('lot_link_pair', ['fromLotId', 'toLotId', 'step'], { unique: true })
@Index('lot_link_to', ['toLotId'])
export class LotLinkEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  fromLotId!: string;

  @Column({ type: 'varchar', length: 64 })
  toLotId!: string;

  @Column({ type: 'varchar', length: 64 })
  step!: string;

  /** Consumed from the input lot so far, in `unit`. */
  @Column({ type: 'double precision', default: 0 })
  quantity!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  @Column(INSTANT)
  createdAt!: string;
}
