import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import type { Actor, AuditTrail } from '../audit/audit-trail';
import type { Database } from '../database';
import { ApiClientEntity, type Role } from '../entities/api-client.entity';
import { PersistenceError } from '../errors';

export const ROLES: readonly Role[] = ['erp', 'operator', 'engineer', 'viewer'];

/**
 * API keys look like `pipac_<prefix>_<secret>`: the prefix (8 hex digits) finds the client,
 * the secret (256 random bits) proves it. Only the SHA-256 of the whole key is stored; the key
 * itself is shown once, when the client is made.
 */
const KEY_PATTERN = /^pipac_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** Who changes the client list, where and why: the audit entry of the change. */
export interface ClientChange {
  actor: Actor;
  cell: string;
  reason: string;
}

/**
 * The REST API's clients. Given an audit trail, every addition and revocation made with a
 * `ClientChange` is recorded in it (kinds `client.added`, `client.revoked`) in the change's own
 * transaction: who may call the plant's API is part of what a Part 11 trail must show.
 */
export class ApiClientStore {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
    private readonly audit?: AuditTrail,
  ) {}

  /** Registers a client; returns its key, which is not kept anywhere. */
  async create(
    id: string,
    name: string,
    roles: Role[],
    change?: ClientChange,
  ): Promise<{ client: ApiClientEntity; key: string }> {
    for (const role of roles) {
      if (!ROLES.includes(role))
        throw new PersistenceError('INVALID_ARGUMENT', `unknown role "${role}"`, 'roles');
    }
    const prefix = randomBytes(4).toString('hex');
    const key = `pipac_${prefix}_${randomBytes(32).toString('base64url')}`;
    const client = await this.db.transaction(async (manager) => {
      const repository = manager.getRepository(ApiClientEntity);
      if (await repository.findOneBy({ id })) {
        throw new PersistenceError('CONFLICT', `client "${id}" exists`, 'id');
      }
      const entity = repository.create({
        id,
        name,
        roles,
        keyPrefix: prefix,
        keyHash: sha256(key),
        createdAt: new Date(this.clock()).toISOString(),
        revokedAt: null,
      });
      await repository.insert(entity);
      await this.record(manager, change, {
        kind: 'client.added',
        object: `client/${id}`,
        newValue: roles.join(','),
      });
      return entity;
    });
    return { client, key };
  }

  /** The client a key belongs to, or undefined (unknown, malformed or revoked). */
  async authenticate(key: string): Promise<ApiClientEntity | undefined> {
    const match = KEY_PATTERN.exec(key);
    if (!match) return undefined;
    const client = await this.db.manager
      .getRepository(ApiClientEntity)
      .findOneBy({ keyPrefix: match[1]!, revokedAt: IsNull() });
    if (!client) return undefined;
    const presented = Buffer.from(sha256(key), 'hex');
    const stored = Buffer.from(client.keyHash, 'hex');
    return presented.length === stored.length && timingSafeEqual(presented, stored)
      ? client
      : undefined;
  }

  /**
   * Revokes a client's key at once. An unknown id is refused (NOT_FOUND): a typo must not
   * look like success while the real key stays live. Revoking a revoked client changes
   * nothing and records nothing; it answers when it was revoked.
   */
  async revoke(
    id: string,
    change?: ClientChange,
  ): Promise<{ revokedAt: string; already: boolean }> {
    return this.db.transaction(async (manager) => {
      const repository = manager.getRepository(ApiClientEntity);
      const client = await repository.findOneBy({ id });
      if (!client) throw new PersistenceError('NOT_FOUND', `no client "${id}"`, 'id');
      if (client.revokedAt) return { revokedAt: client.revokedAt, already: true };
      const revokedAt = new Date(this.clock()).toISOString();
      await repository.update({ id }, { revokedAt });
      await this.record(manager, change, {
        kind: 'client.revoked',
        object: `client/${id}`,
        oldValue: client.roles.join(','),
        newValue: 'revoked',
      });
      return { revokedAt, already: false };
    });
  }

  private async record(
    manager: EntityManager,
    change: ClientChange | undefined,
    entry: ClientStoreAudit,
  ): Promise<void> {
    if (!change) return;
    if (!this.audit)
      throw new PersistenceError(
        'INVALID_ARGUMENT',
        'ApiClientStore: a ClientChange needs an audit trail',
      );
    await this.audit.append(
      {
        actor: change.actor,
        where: { cell: change.cell },
        ...entry,
        reason: change.reason,
        at: this.clock(),
      },
      manager,
    );
  }

  async list(): Promise<ApiClientEntity[]> {
    return this.db.manager.getRepository(ApiClientEntity).find({ order: { id: 'ASC' } });
  }
}

interface ClientStoreAudit {
  kind: 'client.added' | 'client.revoked';
  object: string;
  oldValue?: string;
  newValue: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
