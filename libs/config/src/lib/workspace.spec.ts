import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findWorkspace, workspaceRoot } from './workspace';

describe('the workspace, found upward', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipac-workspace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the repository from the sources, with its version', () => {
    const found = findWorkspace();
    expect(found?.root).toBe(join(__dirname, '..', '..', '..', '..'));
    expect(found?.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('finds an image-like layout (/app/package.json, bundle in /app/dist/<service>) and skips other manifests', () => {
    const app = join(dir, 'app');
    mkdirSync(join(app, 'dist', 'cli', 'node_modules', 'x'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: '@pipac/source', version: '1.2.3' }),
    );
    writeFileSync(join(app, 'dist', 'cli', 'node_modules', 'x', 'package.json'), '{"name":"x"}');
    writeFileSync(join(app, 'dist', 'cli', 'package.json'), 'not json');
    expect(findWorkspace(join(app, 'dist', 'cli', 'node_modules', 'x'))).toEqual({
      root: app,
      version: '1.2.3',
    });
  });

  it('falls back when there is none above', () => {
    const lonely = join(dir, 'lonely');
    mkdirSync(lonely);
    expect(findWorkspace(lonely)).toBeUndefined();
    expect(workspaceRoot('/fallback', lonely)).toBe('/fallback');
  });
});
