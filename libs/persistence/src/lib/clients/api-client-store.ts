import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IsNull } from 'typeorm';
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

export class ApiClientStore {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Registers a client; returns its key, which is not kept anywhere. */
  async create(
    id: string,
    name: string,
    roles: Role[],
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

  async revoke(id: string): Promise<void> {
    await this.db.transaction((m) =>
      m
        .getRepository(ApiClientEntity)
        .update({ id }, { revokedAt: new Date(this.clock()).toISOString() }),
    );
  }

  async list(): Promise<ApiClientEntity[]> {
    return this.db.manager.getRepository(ApiClientEntity).find({ order: { id: 'ASC' } });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
