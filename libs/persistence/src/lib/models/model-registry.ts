import type { Actor, AuditTrail } from '../audit/audit-trail';
import type { Database } from '../database';
import { ModelRegistryEntryEntity } from '../entities/model-registry.entity';
import { PersistenceError } from '../errors';

export interface ModelRegistration {
  version: string;
  recipe: string;
  step: string;
  location: string;
  card: Record<string, unknown>;
}

/** The trained policies the cell knows, and which one each step runs. */
export class ModelRegistry {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditTrail,
    private readonly cell: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Registers a model once; registering the same version again returns the entry. */
  async register(model: ModelRegistration, by: Actor): Promise<ModelRegistryEntryEntity> {
    return this.db.transaction(async (manager) => {
      const repository = manager.getRepository(ModelRegistryEntryEntity);
      const existing = await repository.findOneBy({ version: model.version });
      if (existing) {
        if (existing.step !== model.step || existing.recipe !== model.recipe) {
          throw new PersistenceError(
            'CONFLICT',
            `model ${model.version} is registered for ${existing.recipe}/${existing.step}`,
            'version',
          );
        }
        return existing;
      }
      const entry = repository.create({
        ...model,
        status: 'registered',
        registeredAt: new Date(this.clock()).toISOString(),
        registeredBy: by.id,
        deployedAt: null,
        deployedBy: null,
      });
      // save, not insert: insert's deep-partial type does not take a JSON column's Record.
      await repository.save(entry);
      await this.audit.append(
        {
          actor: by,
          where: { cell: this.cell, step: model.step },
          kind: 'model.registered',
          object: `model/${model.version}`,
          newValue: model.location,
          reason: `model for ${model.recipe}/${model.step} registered`,
          modelVersion: model.version,
        },
        manager,
      );
      return entry;
    });
  }

  /** Deploys a registered model to its step; the one deployed before is retired. */
  async deploy(version: string, by: Actor, reason: string): Promise<ModelRegistryEntryEntity> {
    return this.db.transaction(async (manager) => {
      const repository = manager.getRepository(ModelRegistryEntryEntity);
      const entry = await repository.findOneBy({ version });
      if (!entry) throw new PersistenceError('NOT_FOUND', `no model ${version}`, 'version');
      const current = await repository.findOneBy({
        recipe: entry.recipe,
        step: entry.step,
        status: 'deployed',
      });
      if (current?.version === version) return current;
      const at = new Date(this.clock()).toISOString();
      if (current) await repository.update({ version: current.version }, { status: 'retired' });
      await repository.update(
        { version },
        { status: 'deployed', deployedAt: at, deployedBy: by.id },
      );
      await this.audit.append(
        {
          actor: by,
          where: { cell: this.cell, step: entry.step },
          kind: 'model.deployed',
          object: `step/${entry.step}/model`,
          oldValue: current?.version ?? null,
          newValue: version,
          reason,
          modelVersion: version,
          at: Date.parse(at),
        },
        manager,
      );
      return { ...entry, status: 'deployed', deployedAt: at, deployedBy: by.id };
    });
  }

  async deployed(recipe: string, step: string): Promise<ModelRegistryEntryEntity | undefined> {
    const entry = await this.db.manager
      .getRepository(ModelRegistryEntryEntity)
      .findOneBy({ recipe, step, status: 'deployed' });
    return entry ?? undefined;
  }

  async list(recipe?: string): Promise<ModelRegistryEntryEntity[]> {
    return this.db.manager.getRepository(ModelRegistryEntryEntity).find({
      ...(recipe ? { where: { recipe } } : {}),
      order: { step: 'ASC', registeredAt: 'ASC' },
    });
  }
}
