import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail is append-only in the database itself, not only in the code: UPDATE,
 * DELETE and TRUNCATE on audit_entry raise (21 CFR Part 11 §11.10(e): changes must not obscure
 * what was recorded). A superuser can still disable the triggers and edit rows; the hash
 * chain is what detects that.
 */
export class AuditAppendOnly1795922304340 implements MigrationInterface {
  name = 'AuditAppendOnly1795922304340';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entry is append-only (% refused)', TG_OP;
      END $$`);
    await queryRunner.query(
      'CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()',
    );
    await queryRunner.query(
      'CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER audit_entry_no_truncate ON audit_entry');
    await queryRunner.query('DROP TRIGGER audit_entry_no_change ON audit_entry');
    await queryRunner.query('DROP FUNCTION audit_entry_append_only()');
  }
}
