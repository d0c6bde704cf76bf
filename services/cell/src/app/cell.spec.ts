import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@pipac/bus';
import { describeCellScenarios } from '../testing/cell.scenarios';

// The embedded default: in-process bus, an SQLite file; the plant on OPC UA (loopback).
describeCellScenarios('in-process bus, SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipac-cell-db-'));
  return {
    bus: new InProcessBus(),
    database: `sqlite:${join(dir, 'cell.sqlite')}`,
    site: 'embedded',
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
