import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usage.error';

/**
 * Checks, before a long run, that `file` can be written: its directory exists (or, with
 * `createParents`, can be made by `mkdir -p`) and is writable, and the file, if it exists, is a
 * writable regular file. Throws a UsageError naming `option`.
 */
export function assertWritableFile(
  file: string,
  option: string,
  options: { createParents?: boolean } = {},
): void {
  const path = resolve(file);
  const existing = stat(path);
  if (existing?.isDirectory()) throw new UsageError(`${option}: ${file} is a directory`);
  if (existing && !writable(path)) throw new UsageError(`${option}: ${file} is not writable`);
  if (options.createParents) {
    assertCreatableDirectory(dirname(file), option);
    return;
  }
  const dir = dirname(path);
  const dirStats = stat(dir);
  if (!dirStats) throw new UsageError(`${option}: directory ${dirname(file)} does not exist`);
  if (!dirStats.isDirectory())
    throw new UsageError(`${option}: ${dirname(file)} is not a directory`);
  if (!writable(dir)) throw new UsageError(`${option}: directory ${dirname(file)} is not writable`);
}

/**
 * Checks, before a long run, that `mkdir -p dir` can succeed and the directory then takes files:
 * `dir` is a writable directory, or its nearest existing ancestor is one.
 */
export function assertCreatableDirectory(dir: string, option: string): void {
  let path = resolve(dir);
  let stats = stat(path);
  while (!stats) {
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
    stats = stat(path);
  }
  if (!stats) throw new UsageError(`${option}: cannot create ${dir}`);
  const where = path === resolve(dir) ? dir : `${path} (in ${dir})`;
  if (!stats.isDirectory()) throw new UsageError(`${option}: ${where} is not a directory`);
  if (!writable(path)) throw new UsageError(`${option}: directory ${where} is not writable`);
}

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
