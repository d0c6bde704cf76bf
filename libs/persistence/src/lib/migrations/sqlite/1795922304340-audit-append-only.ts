import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail is append-only in the database itself, not only in the code: UPDATE and
 * DELETE on audit_entry abort (21 CFR Part 11 §11.10(e): changes must not obscure what was
 * recorded). Someone with the rights to drop the triggers can still edit rows; the hash chain
 * is what detects that.
 */
export class AuditAppendOnly1795922304340 implements MigrationInterface {
  name = 'AuditAppendOnly1795922304340';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    );
    await queryRunner.query(
      "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER audit_entry_no_delete');
    await queryRunner.query('DROP TRIGGER audit_entry_no_update');
  }
}
