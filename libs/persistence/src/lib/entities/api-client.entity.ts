import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { INSTANT } from './columns';

export type Role = 'erp' | 'operator' | 'engineer' | 'viewer';

/**
 * A caller of the REST API (the ERP, an operator station, an engineer) and its roles. The API
 * key is never stored: only its SHA-256 (keys are 256 random bits, so a fast hash is enough; a
 * password hash is for low-entropy secrets) and its public prefix, which finds the row.
 */
@Entity({ name: 'api_client' })
@Index('api_client_key_prefix', ['keyPrefix'], { unique: true })
export class ApiClientEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 128 })
  name!: string;

  @Column({ type: 'simple-json' })
  roles!: Role[];

  @Column({ type: 'varchar', length: 16 })
  keyPrefix!: string;

  @Column({ type: 'varchar', length: 64 })
  keyHash!: string;

  @Column(INSTANT)
  createdAt!: string;

  @Column({ ...INSTANT, nullable: true })
  revokedAt!: string | null;
}
