import { userInfo } from 'node:os';
import { Command } from 'commander';
import {
  ApiClientStore,
  AuditTrail,
  PersistenceError,
  ROLES,
  oneLineTextProblem,
  type Actor,
  type ClientChange,
  type Role,
} from '@pipac/persistence';
import { formatTable } from '../format/table';
import { UsageError } from '../format/usage.error';
import { DEFAULT_AUDIT_KEYS, dbOption, openDatabase } from './audit.command';

/** The embedded cell's id (`pipac start`): where client changes are recorded. */
const DEFAULT_CELL = 'cell-1';

const changeOptions = (command: Command) =>
  command
    .option('--cell <id>', 'the cell whose audit trail records the change', DEFAULT_CELL)
    .option(
      '--keys <dir>',
      "the audit trail's signing key (the cell's; the change is signed like its own entries)",
      DEFAULT_AUDIT_KEYS,
    );

async function withClients<T>(
  url: string,
  work: (clients: ApiClientStore) => Promise<T>,
  /** The audit keys, for the commands that change something. */
  keys?: string,
): Promise<T> {
  const db = await openDatabase(url, keys);
  try {
    return await work(new ApiClientStore(db, Date.now, new AuditTrail(db)));
  } catch (error) {
    // An unknown or duplicate client is bad input: exit 2 with the store's sentence.
    if (error instanceof PersistenceError && error.code !== 'INVALID_TRANSITION') {
      throw new UsageError(error.message);
    }
    throw error;
  } finally {
    await db.close();
  }
}

/**
 * Who runs the command, for the audit trail: the operating-system user (a person at the
 * plant's console), or `system` where there is none (a container without a passwd entry).
 */
export function commandLineActor(): Actor {
  try {
    const { username } = userInfo();
    if (username) return { kind: 'user', id: username };
  } catch {
    // No user name to be had: fall through.
  }
  return { kind: 'system', id: 'system' };
}

/** A reason fit for the audit trail: one line, not blank. */
function reasonOf(reason: string): string {
  const trimmed = reason.trim();
  if (!trimmed) throw new UsageError('--reason must not be blank');
  const problem = oneLineTextProblem(trimmed);
  if (problem) throw new UsageError(`--reason ${problem}`);
  if (trimmed.length > 500) throw new UsageError('--reason must be at most 500 characters');
  return trimmed;
}

/** `pipac clients`: the REST API's callers and their roles (keys are stored hashed, shown once). */
export function clientsCommand(): Command {
  const clients = new Command('clients').description("The REST API's clients: add, list, revoke");
  dbOption(
    changeOptions(
      clients
        .command('add <id>')
        .description(
          `Register a client and print its API key (shown once); recorded in the audit trail. Roles: ${ROLES.join(', ')}`,
        )
        .requiredOption('--roles <roles>', 'comma-separated roles')
        .option('--name <name>', 'what the client is (e.g. "SAP S/4HANA production")')
        .option('--reason <text>', 'why, for the audit trail (default: "new client <name>")'),
    ),
  ).action(
    async (
      id: string,
      options: {
        roles: string;
        name?: string;
        reason?: string;
        cell: string;
        keys: string;
        db: string;
      },
    ) => {
      const roles = options.roles.split(',').map((r) => r.trim()) as Role[];
      const unknown = roles.filter((r) => !ROLES.includes(r));
      if (unknown.length > 0)
        throw new UsageError(`--roles: unknown ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
      const name = options.name ?? id;
      const change: ClientChange = {
        actor: commandLineActor(),
        cell: options.cell,
        reason: reasonOf(options.reason ?? `new client ${name}`),
      };
      const { key } = await withClients(
        options.db,
        (store) => store.create(id, name, roles, change),
        options.keys,
      );
      process.stdout.write(
        `client ${id} (${roles.join(', ')}); its API key, shown once:\n${key}\n`,
      );
    },
  );
  dbOption(
    clients
      .command('list')
      .description('List the clients, their roles and whether they are revoked'),
  ).action(async (options: { db: string }) => {
    const rows = await withClients(options.db, (store) => store.list());
    process.stdout.write(
      `${formatTable(
        ['id', 'name', 'roles', 'key prefix', 'created', 'revoked'],
        rows.map((c) => [
          c.id,
          c.name,
          c.roles.join(','),
          c.keyPrefix,
          c.createdAt,
          c.revokedAt ?? '',
        ]),
      )}\n`,
    );
  });
  dbOption(
    changeOptions(
      clients
        .command('revoke <id>')
        .description(
          "Revoke a client's key at once; recorded in the audit trail. An unknown id fails (exit 2)",
        )
        .option(
          '--reason <text>',
          'why, for the audit trail (e.g. "key leaked"; default: "key revoked from the command line")',
        ),
    ),
  ).action(
    async (id: string, options: { reason?: string; cell: string; keys: string; db: string }) => {
      const change: ClientChange = {
        actor: commandLineActor(),
        cell: options.cell,
        reason: reasonOf(options.reason ?? 'key revoked from the command line'),
      };
      const { revokedAt, already } = await withClients(
        options.db,
        (store) => store.revoke(id, change),
        options.keys,
      );
      process.stdout.write(
        already ? `client ${id} was already revoked (${revokedAt})\n` : `client ${id} revoked\n`,
      );
    },
  );
  // main() overrides exits on the top-level commands only: without this a bad option here
  // would end the process from inside commander instead of exiting 2 through main().
  for (const command of clients.commands) command.exitOverride();
  return clients;
}
