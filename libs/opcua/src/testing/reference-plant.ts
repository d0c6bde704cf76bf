import { join } from 'node:path';
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';

/** A recipe of the repository's recipes/ folder, compiled. @default the reference plant */
export function recipePlant(name = 'paracetamol'): PlantModel {
  return compilePlant(loadRecipe(join(__dirname, '../../../../recipes', `${name}.yaml`)));
}
