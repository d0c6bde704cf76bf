import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditKeyring, AuditSigner } from './audit/audit-signing';
import { ENTITIES } from './entities';
import { PersistenceError } from './errors';
import { POSTGRES_MIGRATIONS } from './migrations/postgres';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';

/**
 * Where the cell keeps its records: an SQLite file (the embedded default, one machine) or a
 * PostgreSQL server (a plant). Same entities; one migration folder per driver, because the
 * generated DDL differs.
 */
export type DatabaseConfig =
  | {
      type: 'sqlite';
      /** The database file; `:memory:` for a throw-away database. */
      path: string;
    }
  | {
      type: 'postgres';
      /** `postgres://user:password@host:port/database` */
      url: string;
      /** @default 10 */
      poolSize?: number;
    };

/** Parses `sqlite:<path>` or a `postgres://…` URL (the form the CLI and config files use). */
export function parseDatabaseUrl(url: string): DatabaseConfig {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { type: 'postgres', url };
  }
  if (url.startsWith('sqlite:')) return { type: 'sqlite', path: url.slice('sqlite:'.length) };
  throw new PersistenceError(
    'INVALID_ARGUMENT',
    `database "${url}" must be sqlite:<file> or postgres://user:password@host/db`,
  );
}

/** How this process treats the records, beside where they are. */
export interface DatabaseOptions {
  /**
   * The audit trail's keys, from outside the database. With a signer, every append is signed
   * (a checkpoint in the same transaction); with a keyring, verification checks those
   * signatures and treats entries no signature covers as tampering.
   * @default neither: the hash chain alone
   */
  audit?: { signer?: AuditSigner | undefined; keyring?: AuditKeyring | undefined };
}

/** A connected database with its schema migrated; hands out serialised write transactions. */
export class Database {
  private writeQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dataSource: DataSource,
    readonly config: DatabaseConfig,
    readonly options: DatabaseOptions,
  ) {}

  /**
   * Connects and applies pending migrations (never schema synchronisation: production schemas
   * change only through reviewed migrations).
   */
  static async open(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {
    const common = {
      entities: ENTITIES,
      synchronize: false,
      migrationsRun: false,
      logging: false,
    } as const;
    let dataSource: DataSource;
    if (config.type === 'sqlite') {
      if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
      dataSource = new DataSource({
        ...common,
        type: 'better-sqlite3',
        database: config.path,
        migrations: SQLITE_MIGRATIONS,
        // WAL lets readers (the REST API) run while a writer commits; foreign keys off by
        // SQLite's default, so ask.
        prepareDatabase: (db: { pragma(sql: string): unknown }) => {
          db.pragma('journal_mode = WAL');
          db.pragma('busy_timeout = 5000');
        },
      });
    } else {
      dataSource = new DataSource({
        ...common,
        type: 'postgres',
        url: config.url,
        migrations: POSTGRES_MIGRATIONS,
        poolSize: config.poolSize ?? 10,
      });
    }
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return new Database(dataSource, config, options);
  }

  get isSqlite(): boolean {
    return this.config.type === 'sqlite';
  }

  /**
   * Runs `work` in one transaction. SQLite has one connection and one writer: transactions
   * are queued here, in order (concurrent BEGINs on one connection would fail). PostgreSQL
   * runs them concurrently; code that needs a serial order takes a lock inside.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.isSqlite) return this.dataSource.transaction(work);
    const run = this.writeQueue.then(() => this.dataSource.transaction(work));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs reads that must see only committed data. SQLite has one connection, so a read beside
   * an open write transaction sees its uncommitted rows (an audit entry whose checkpoint is not
   * written yet, a head that is then rolled back): there the reads wait in the write queue.
   * PostgreSQL reads committed data on a connection of its own.
   */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.isSqlite) return work(this.dataSource.manager);
    const run = this.writeQueue.then(() => work(this.dataSource.manager));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async close(): Promise<void> {
    await this.writeQueue;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
