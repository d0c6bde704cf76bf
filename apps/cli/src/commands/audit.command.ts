import { Command } from 'commander';
import { AuditTrail, Database, parseDatabaseUrl } from '@pipac/persistence';
import { UsageError } from '../format/usage.error';

/** The embedded cell's database (`pipac start`), relative to the working directory. */
export const DEFAULT_DATABASE = 'sqlite:.pipac/cell.sqlite';

/** Exit code of a chain that does not verify: the command ran, the evidence failed. */
export const EXIT_CHAIN_BROKEN = 3;

/** The chain did not verify (mapped to exit code 3 by the entry point). */
export class AuditChainBrokenError extends Error {
  readonly code = 'AUDIT_CHAIN_BROKEN';
}

/** `pipac audit verify`: recomputes the audit trail's hash chain and names the first broken entry. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('The audit trail: verify its hash chain');
  audit
    .command('verify')
    .description(
      'Walk the audit trail in order and check every entry against its hash and its predecessor; ' +
        `exits ${EXIT_CHAIN_BROKEN} and names the first entry that does not verify.`,
    )
    .option(
      '--db <url>',
      'the cell database: sqlite:<file> or postgres://…',
      process.env['PIPAC_DATABASE_URL'] ?? DEFAULT_DATABASE,
    )
    .option('--format <format>', 'table or json', 'table')
    .action(async (options: { db: string; format: string }) => {
      if (options.format !== 'table' && options.format !== 'json') {
        throw new UsageError(`--format: "${options.format}" is not table or json`);
      }
      let config;
      try {
        config = parseDatabaseUrl(options.db);
      } catch (error) {
        throw new UsageError(`--db: ${(error as Error).message}`);
      }
      const db = await Database.open(config);
      try {
        const result = await new AuditTrail(db).verify();
        if (options.format === 'json') {
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } else if (result.ok) {
          process.stdout.write(
            `audit trail verified: ${result.entries} entries, head ${result.head}\n`,
          );
        } else {
          process.stdout.write(
            `audit trail BROKEN at entry ${result.broken.sequence}: ${result.broken.reason} ` +
              `(${result.entries} entries before it verify)\n`,
          );
        }
        if (!result.ok) {
          throw new AuditChainBrokenError(`audit trail broken at entry ${result.broken.sequence}`);
        }
      } finally {
        await db.close();
      }
    });
  return audit;
}
