import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxPolicy } from './onnx-policy';
import type { PlantModel } from '@pipac/recipe';
import { StepSpace } from './step-space';
import { PolicyError } from './policy.error';

/** The model-card fields a service checks before it lets a policy run a step. */
export interface ModelCardHeader {
  format: string;
  version: string;
  file: string;
  step: string;
  recipe: { name: string; version: string };
  observation: { features: string[] };
  action: { tag: string }[];
}

export interface LoadedPolicy {
  policy: OnnxPolicy;
  card: ModelCardHeader;
}

/**
 * Loads a step's deployed policy from `<dir>/<step>/policy.onnx` and its model card, and
 * refuses one that does not fit: another step, another recipe, other observation features or
 * action tags than the step's space, or a file whose hash is not the card's version.
 */
export async function loadStepPolicy(
  dir: string,
  space: StepSpace,
  recipeName: string,
  file = 'policy.onnx',
): Promise<LoadedPolicy> {
  const stepDir = join(dir, space.step.id);
  const cardPath = join(stepDir, file.replace(/\.onnx$/, '.card.json'));
  const card = JSON.parse(await readFile(cardPath, 'utf8')) as ModelCardHeader;
  const problems: string[] = [];
  if (card.format !== 'pipac.model-card/v1') problems.push(`format ${card.format}`);
  if (card.step !== space.step.id) problems.push(`trained for step ${card.step}`);
  if (card.recipe?.name !== recipeName) problems.push(`trained on recipe ${card.recipe?.name}`);
  if (card.observation?.features?.join(',') !== space.features.join(','))
    problems.push('observation features differ from the step’s');
  if (card.action?.map((a) => a.tag).join(',') !== space.manipulated.map((m) => m.tag).join(','))
    problems.push('action tags differ from the step’s');
  if (problems.length > 0)
    throw new PolicyError('CARD_MISMATCH', `${cardPath}: ${problems.join('; ')}`);
  const policy = await OnnxPolicy.fromFile(join(stepDir, file), space.observationSize);
  if (policy.version !== card.version) {
    await policy.release();
    throw new PolicyError(
      'CARD_MISMATCH',
      `${join(stepDir, file)} is ${policy.version}, its card says ${card.version}`,
    );
  }
  return { policy, card };
}

/**
 * Every step's deployed policy from `dir` (`loadStepPolicy` per step), by step id. A step
 * without a usable one (missing, unreadable or refused) fails the load: `NO_POLICY`, naming
 * the step, its cause attached.
 */
export async function loadPlantPolicies(
  dir: string,
  model: PlantModel,
): Promise<Record<string, OnnxPolicy>> {
  const policies: Record<string, OnnxPolicy> = {};
  for (const step of model.steps) {
    const space = new StepSpace(model, step.id);
    const { policy } = await loadStepPolicy(dir, space, model.recipe.metadata.name).catch(
      (error: unknown) => {
        throw new PolicyError(
          'NO_POLICY',
          `no usable policy for step ${step.id} (${error instanceof Error ? error.message : String(error)})`,
          { cause: error },
        );
      },
    );
    policies[step.id] = policy;
  }
  return policies;
}
