import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { INSTANT } from './columns';

export type ModelStatus = 'registered' | 'deployed' | 'retired';

/**
 * A trained policy known to the cell: the ONNX file's SHA-256 is its version, the model card
 * says what it was trained for and how it scored. At most one model per step is deployed.
 */
@Entity({ name: 'model_registry_entry' })
@Index('model_registry_step', ['recipe', 'step', 'status'])
export class ModelRegistryEntryEntity {
  /** `sha256:<hex>` of the ONNX file (the version the agents report). */
  @PrimaryColumn({ type: 'varchar', length: 80 })
  version!: string;

  @Column({ type: 'varchar', length: 64 })
  recipe!: string;

  @Column({ type: 'varchar', length: 64 })
  step!: string;

  /** Where the file lives (a path or URI the agents can load). */
  @Column({ type: 'varchar', length: 512 })
  location!: string;

  @Column({ type: 'simple-json' })
  card!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16 })
  status!: ModelStatus;

  @Column(INSTANT)
  registeredAt!: string;

  @Column({ type: 'varchar', length: 128 })
  registeredBy!: string;

  @Column({ ...INSTANT, nullable: true })
  deployedAt!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  deployedBy!: string | null;
}
