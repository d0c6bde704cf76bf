import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../format/paths';
import { pipac } from '../testing/run-pipac';

const FIRST_ORDER = join(REPOSITORY_ROOT, 'recipes', 'first-order-pfr.yaml');

describe('pipac train and pipac eval', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-train-cli-'));
    process.env['PIPAC_QUIET'] = '1';
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env['PIPAC_QUIET'];
  });

  it.each([
    [['--shard', '3/2'], /--shard: expected i\/n/],
    [['--step', 'distillation'], /no step "distillation"/],
    [['--merge'], /--shards: expected an integer/],
    [['--workers', '-1'], /--workers: expected an integer ≥ 0/],
  ])('train refuses %j with a reason', async (args, message) => {
    const { code, stderr } = await pipac('train', '--out', dir, '--models', dir, ...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('eval without trained models for the recipe says how to get them', async () => {
    const { code, stderr } = await pipac(
      'eval',
      '--recipe',
      FIRST_ORDER,
      '--models',
      dir,
      '--duration',
      '1h',
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/no usable policy for step .*run pipac train first/);
  });

  it('eval --severity scales the disturbances (held-out magnitudes), and refuses a bad one', async () => {
    type Out = { severity: number; stats: { score: { mean: number } }[] };
    const scored = async (severity: string) => {
      const run = await pipac(
        'eval',
        '--recipe',
        FIRST_ORDER,
        '--controller',
        'fixed-recipe',
        '--scenario',
        'feed-drift',
        '--duration',
        '2h',
        '--seeds',
        '1',
        '--severity',
        severity,
        '--format',
        'json',
      );
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as Out;
    };
    const [as, beyond] = [await scored('1'), await scored('2')];
    expect([as.severity, beyond.severity]).toEqual([1, 2]);
    // A stronger drift of the feed: the fixed recipe makes less.
    expect(beyond.stats[0]!.score.mean).toBeLessThan(as.stats[0]!.score.mean);
    const bad = await pipac('eval', '--recipe', FIRST_ORDER, '--severity', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--severity: expected a positive number, got "0"');
  });

  it('trains any recipe: a population of a one-step plant, exported and then evaluated against the baselines', async () => {
    const models = join(dir, 'models');
    const trained = await pipac(
      'train',
      '--recipe',
      FIRST_ORDER,
      '--quick',
      '--population',
      '2',
      '--workers',
      '0',
      '--out',
      join(dir, 'work'),
      '--models',
      models,
    );
    expect(trained.stderr).toContain('pipac train: done');
    expect(trained.code).toBe(0);
    const [step] = readdirSync(models);
    expect(readdirSync(join(models, step!)).sort()).toEqual([
      'funnel.svg',
      'policy.card.json',
      'policy.onnx',
    ]);
    // The funnel as --population 2 scales the quick plan (scalePlan): 2 → 2 → 2, and the
    // robust stage chooses 1 of 2.
    expect(trained.stdout).toMatch(
      /the selection funnel[\s\S]*screen\s+2\s+2\s[\s\S]*train\s+2\s+2\s[\s\S]*robust\s+2\s+1\s/,
    );
    expect(readFileSync(join(models, step!, 'funnel.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*<\/svg>\s*$/,
    );
    const card = JSON.parse(readFileSync(join(models, step!, 'policy.card.json'), 'utf8')) as {
      version: string;
    };
    expect(trained.stdout).toContain(card.version.slice(0, 19));

    const plots = join(dir, 'plots');
    const evaluated = await pipac(
      'eval',
      '--recipe',
      FIRST_ORDER,
      '--models',
      models,
      '--scenario',
      'nominal',
      'pump-calibration',
      '--duration',
      '2h',
      '--seeds',
      '2',
      '--plots',
      plots,
    );
    expect(evaluated.code).toBe(0);
    for (const controller of ['agent', 'mpc', 'pid', 'fixed-recipe', 'oracle']) {
      expect(evaluated.stdout).toMatch(new RegExp(`^nominal\\s+${controller}\\s+\\d`, 'm'));
    }
    expect(evaluated.stdout).toMatch(/^pump-calibration\s+oracle\s+[\d.]+\s+1\s/m);
    expect(evaluated.stdout).toContain('targets (deployed agents):');
    expect(evaluated.stdout).toContain('PID tuning (SIMC)');
    expect(readdirSync(plots).sort()).toEqual(['nominal.svg', 'pump-calibration.svg']);
    expect(readFileSync(join(plots, 'nominal.svg'), 'utf8')).toContain('<svg');

    const json = await pipac(
      'eval',
      '--recipe',
      FIRST_ORDER,
      '--models',
      models,
      '--scenario',
      'nominal',
      '--duration',
      '1h',
      '--seeds',
      '2',
      '--seed',
      '7',
      '--format',
      'json',
    );
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      seeds: number[];
      stats: { scenario: string; controller: string; fractionOfOracle: { mean: number } }[];
      checks: { scenario: string; target: string; met: boolean }[];
    };
    expect(parsed.seeds).toEqual([7, 8]);
    expect(parsed.stats.map((s) => s.controller)).toEqual([
      'agent',
      'mpc',
      'pid',
      'fixed-recipe',
      'oracle',
    ]);
    expect(parsed.stats.at(-1)!.fractionOfOracle.mean).toBe(1);
    expect(parsed.checks.some((c) => c.scenario === 'nominal' && c.target === 'agent ≥ PID')).toBe(
      true,
    );

    // The same runs on the reality gap's plant: every controller scored on a plant it does
    // not know, so the fixed recipe's score moves (the oracle's fraction stays 1 by definition).
    type Scored = { plant: string; stats: { controller: string; score: { mean: number } }[] };
    const onPlant = async (plant: string) => {
      const run = await pipac(
        'eval',
        '--recipe',
        FIRST_ORDER,
        '--models',
        models,
        '--scenario',
        'nominal',
        '--controller',
        'fixed-recipe',
        '--duration',
        '1h',
        '--seeds',
        '2',
        '--plant',
        plant,
        '--format',
        'json',
      );
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as Scored;
    };
    const twin = await onPlant('twin');
    const real = await onPlant('mismatch');
    expect([twin.plant, real.plant]).toEqual(['twin', 'mismatch']);
    expect(real.stats[0]!.score.mean).not.toBe(twin.stats[0]!.score.mean);
  }, 600_000);
});
