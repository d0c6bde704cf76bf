import { join } from 'node:path';

/** The repository root, from this file's place in apps/cli/src/format. */
export const REPOSITORY_ROOT = join(__dirname, '..', '..', '..', '..');

/** The reference plant's recipe, shipped in the repository. */
export function defaultRecipePath(): string {
  return join(REPOSITORY_ROOT, 'recipes', 'paracetamol.yaml');
}
