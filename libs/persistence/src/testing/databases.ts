import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Database } from '../lib/database';

/** A database made for one suite and removed after it. */
export interface ScratchDatabase {
  open(): Promise<Database>;
  /** The same database again, as a second process would see it. */
  url: string;
  dispose(): Promise<void>;
}

/** A fresh SQLite file in a temporary folder. */
export function scratchSqlite(): ScratchDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'pipac-db-'));
  const path = join(dir, 'cell.sqlite');
  return {
    url: `sqlite:${path}`,
    open: () => Database.open({ type: 'sqlite', path }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A fresh database on the PostgreSQL server in PIPAC_POSTGRES_URL (the test script starts one
 * with scripts/postgres/postgres.sh), so suites can run in parallel; the role needs CREATEDB.
 */
export async function scratchPostgres(): Promise<ScratchDatabase> {
  const server = postgresUrl();
  const name = `pipac_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: () => Database.open({ type: 'postgres', url: url.toString(), poolSize: 4 }),
    dispose: async () => {
      const client = new Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function postgresUrl(): string {
  const url = process.env['PIPAC_POSTGRES_URL'];
  if (!url) {
    throw new Error(
      'set PIPAC_POSTGRES_URL (scripts/postgres/postgres.sh start prints it), or run npm test',
    );
  }
  return url;
}

/**
 * Runs one jest suite against both drivers: SQLite (the embedded default) and a real
 * PostgreSQL server. `db()` is the suite's database, migrated and empty at the start.
 */
export function describeDatabases(
  name: string,
  suite: (db: () => Database, scratch: () => ScratchDatabase) => void,
): void {
  for (const driver of ['sqlite', 'postgres'] as const) {
    describe(`${name} (${driver})`, () => {
      let scratch: ScratchDatabase;
      let database: Database;
      beforeAll(async () => {
        scratch = driver === 'sqlite' ? scratchSqlite() : await scratchPostgres();
        database = await scratch.open();
      });
      afterAll(async () => {
        await database?.close();
        await scratch?.dispose();
      });
      suite(
        () => database,
        () => scratch,
      );
    });
  }
}
