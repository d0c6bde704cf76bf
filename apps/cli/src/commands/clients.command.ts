import { Command } from 'commander';
import { ApiClientStore, Database, ROLES, parseDatabaseUrl, type Role } from '@pipac/persistence';
import { formatTable } from '../format/table';
import { UsageError } from '../format/usage.error';
import { DEFAULT_DATABASE } from './audit.command';

const dbOption = (command: Command) =>
  command.option(
    '--db <url>',
    'the cell database: sqlite:<file> or postgres://…',
    process.env['PIPAC_DATABASE_URL'] ?? DEFAULT_DATABASE,
  );

async function withClients<T>(
  url: string,
  work: (clients: ApiClientStore) => Promise<T>,
): Promise<T> {
  let config;
  try {
    config = parseDatabaseUrl(url);
  } catch (error) {
    throw new UsageError(`--db: ${(error as Error).message}`);
  }
  const db = await Database.open(config);
  try {
    return await work(new ApiClientStore(db));
  } finally {
    await db.close();
  }
}

/** `pipac clients`: the REST API's callers and their roles (keys are stored hashed, shown once). */
export function clientsCommand(): Command {
  const clients = new Command('clients').description("The REST API's clients: add, list, revoke");
  dbOption(
    clients
      .command('add <id>')
      .description(
        `Register a client and print its API key (shown once). Roles: ${ROLES.join(', ')}`,
      )
      .requiredOption('--roles <roles>', 'comma-separated roles')
      .option('--name <name>', 'what the client is (e.g. "SAP S/4HANA production")'),
  ).action(async (id: string, options: { roles: string; name?: string; db: string }) => {
    const roles = options.roles.split(',').map((r) => r.trim()) as Role[];
    const unknown = roles.filter((r) => !ROLES.includes(r));
    if (unknown.length > 0)
      throw new UsageError(`--roles: unknown ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
    const { key } = await withClients(options.db, (store) =>
      store.create(id, options.name ?? id, roles),
    );
    process.stdout.write(`client ${id} (${roles.join(', ')}); its API key, shown once:\n${key}\n`);
  });
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
  dbOption(clients.command('revoke <id>').description("Revoke a client's key at once")).action(
    async (id: string, options: { db: string }) => {
      await withClients(options.db, (store) => store.revoke(id));
      process.stdout.write(`client ${id} revoked\n`);
    },
  );
  return clients;
}
