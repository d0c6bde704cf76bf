import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      telemetry: {
        serviceName: 'step-agent.nitration',
        prometheus: { host: '0.0.0.0', port: 9464 },
        sampleRatio: 1,
      },
    });
  });

  it('takes a telemetry block: no Prometheus endpoint, OTLP to a collector', () => {
    const path = join(dir, 'telemetry.yaml');
    writeFileSync(
      path,
      'site: demo\ncell: cell-1\nstep: nitration\nrecipe: r.yaml\nmodels: m\nkafkaBrokers: [k:9092]\n' +
        'telemetry: { prometheus: false, otlp: { endpoint: "http://collector:4318" }, sampleRatio: 0.1 }\n',
    );
    expect(loadAgentConfig(path, {}).telemetry).toEqual({
      serviceName: 'step-agent.nitration',
      prometheus: false,
      otlp: { endpoint: 'http://collector:4318' },
      sampleRatio: 0.1,
    });
    writeFileSync(path, readFileSync(path, 'utf8').replace('0.1 }', '2 }'));
    expect(() => loadAgentConfig(path, {})).toThrow(/\/telemetry\/sampleRatio must be <= 1/);
  });

  it('refuses an unknown mode and a missing models folder, naming the fields', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'site: demo\ncell: c\nstep: s\nrecipe: r.yaml\nmode: autopilot\n');
    expect(() => loadAgentConfig(path, { PIPAC_KAFKA_BROKERS: 'k:1' })).toThrow(
      /bad\.yaml: .*must have required property 'models'.*\/mode must be equal to one of the allowed values/,
    );
  });
});
