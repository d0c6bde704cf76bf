import { Column, Entity, PrimaryColumn } from 'typeorm';
import { INSTANT } from './columns';

/**
 * A signed statement that the audit trail held `sequence` entries ending in `head`: written in
 * the same transaction as the entries it covers, by a writer holding the cell's Ed25519 signing
 * key (which never lives in the database). Whoever can write the database can delete or rewrite
 * entries and recompute their hashes, but cannot sign; `AuditTrail.verify` finds entries no
 * signature covers and heads that no longer match. Append-only like the entries.
 */
@Entity({ name: 'audit_checkpoint' })
export class AuditCheckpointEntity {
  /** The sequence of the last entry covered. */
  @PrimaryColumn({ type: 'integer' })
  sequence!: number;

  /**
   * The first entry the signer itself appended in this transaction: entries
   * `firstSequence..sequence` are its own. An entry no checkpoint's range holds was written by
   * someone without the key, even if a later checkpoint's head covers it through the chain.
   */
  @Column({ type: 'integer' })
  firstSequence!: number;

  /** The hash of entry `sequence` (the chain's head then). */
  @Column({ type: 'varchar', length: 64 })
  head!: string;

  @Column(INSTANT)
  at!: string;

  /** The signing key's id (see `auditKeyId`). */
  @Column({ type: 'varchar', length: 32 })
  keyId!: string;

  /** Ed25519 signature over `checkpointMessage`, base64. */
  @Column({ type: 'varchar', length: 96 })
  signature!: string;
}
