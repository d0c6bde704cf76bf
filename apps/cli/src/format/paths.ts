import { join } from 'node:path';
import { workspaceRoot } from '@pipac/config';

/**
 * The repository root (or the image's /app, where a bundle runs): found upward from here,
 * else this file's place in apps/cli/src/format.
 */
export const REPOSITORY_ROOT = workspaceRoot(join(__dirname, '..', '..', '..', '..'));

/** The reference plant's recipe, shipped in the repository. */
export function defaultRecipePath(): string {
  return join(REPOSITORY_ROOT, 'recipes', 'paracetamol.yaml');
}
