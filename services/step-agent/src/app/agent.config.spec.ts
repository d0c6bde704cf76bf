import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from './agent.config';

describe('step agent configuration', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pipac-agent-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves paths against the file and fills the documented defaults', () => {
    const path = join(dir, 'agent.yaml');
    writeFileSync(
      path,
      'site: demo\ncell: cell-1\nstep: nitration\nrecipe: r.yaml\nmodels: m\nkafkaBrokers: [k:9092]\n',
    );
    expect(loadAgentConfig(path, {})).toEqual({
      site: 'demo',
      cell: 'cell-1',
      step: 'nitration',
      recipe: join(dir, 'r.yaml'),
      models: join(dir, 'm'),
      mode: 'operator',
      shadow: false,
      cycleSeconds: 60,
      modelPollSeconds: 5,
      kafkaBrokers: ['k:9092'],
      http: { host: '0.0.0.0', port: 8080 },
    });
  });

  it('refuses an unknown mode and a missing models folder, naming the fields', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'site: demo\ncell: c\nstep: s\nrecipe: r.yaml\nmode: autopilot\n');
    expect(() => loadAgentConfig(path, { PIPAC_KAFKA_BROKERS: 'k:1' })).toThrow(
      /bad\.yaml: .*must have required property 'models'.*\/mode must be equal to one of the allowed values/,
    );
  });
});
