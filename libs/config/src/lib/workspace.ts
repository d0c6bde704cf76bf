import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The name of the workspace's root package.json. */
const WORKSPACE_PACKAGE = '@pipac/source';

export interface Workspace {
  /** The folder that holds the workspace's package.json (and recipes/, models/). */
  root: string;
  version: string;
}

/**
 * The workspace this code runs from, found upward from `start`: the repository when run from
 * the sources (tsx, jest), the image's /app when run as a bundle (the Dockerfile copies the
 * manifest, the recipes and the models there). Undefined when there is none above.
 */
export function findWorkspace(start: string = __dirname): Workspace | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === WORKSPACE_PACKAGE)
        return { root: dir, version: manifest.version ?? '0.0.0' };
    } catch {
      // no readable package.json here: look further up
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The workspace's root folder, or `fallback` when none is found above `start`. */
export function workspaceRoot(fallback: string, start: string = __dirname): string {
  return findWorkspace(start)?.root ?? fallback;
}
