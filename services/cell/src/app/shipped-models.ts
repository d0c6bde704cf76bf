import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditTrail, ModelRegistry, type Database } from '@pipac/persistence';
import type { PlantModel } from '@pipac/recipe';

const CELL = { kind: 'system' as const, id: 'pipac start' };

/**
 * Puts the models the agents will load (<models>/<step>/policy.onnx) into the registry as
 * deployed, so the registry, the audit trail and the agents agree from the first minute.
 * A model already registered and deployed is left as it is.
 */
export async function registerShippedModels(
  db: Database,
  modelsDir: string,
  model: PlantModel,
  clock: () => number,
  cell: string,
): Promise<string[]> {
  const registry = new ModelRegistry(db, new AuditTrail(db, clock), cell, clock);
  const recipe = model.recipe.metadata.name;
  const versions: string[] = [];
  for (const step of model.steps) {
    const file = join(modelsDir, step.id, 'policy.onnx');
    const cardFile = join(modelsDir, step.id, 'policy.card.json');
    if (!existsSync(file) || !existsSync(cardFile)) continue;
    const version = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    const card = JSON.parse(readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
    await registry.register({ version, recipe, step: step.id, location: file, card }, CELL);
    if ((await registry.deployed(recipe, step.id))?.version !== version) {
      await registry.deploy(version, CELL, `the model in ${modelsDir} at start`);
    }
    versions.push(version);
  }
  return versions;
}
