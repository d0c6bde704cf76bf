import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../format/paths';
import { pipac } from '../testing/run-pipac';

const FIRST_ORDER = join(REPOSITORY_ROOT, 'recipes', 'first-order-pfr.yaml');

describe('pipac sim', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-sim-'));
    process.env['PIPAC_QUIET'] = '1';
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env['PIPAC_QUIET'];
  });

  it("prints the reference plant's outlet compositions, key figures and limits by default", async () => {
    const { code, stdout } = await pipac('sim');
    expect(code).toBe(0);
    expect(stdout).toContain('Steady state of paracetamol');
    expect(stdout).toMatch(/^paracetamol\s+0\s+0\s+0\.\d+/m);
    for (const figure of [
      'conversion',
      'selectivity',
      'yield',
      'production rate, g/h',
      'space-time yield',
      'E-factor',
      'MTSR, °C',
      'inlet pressure, bar',
    ]) {
      expect(stdout).toContain(figure);
    }
    expect(stdout).toContain('No engineering limit violated.');
  });

  it('reproduces the analytic first-order plug flow in JSON', async () => {
    const { code, stdout } = await pipac('sim', '--recipe', FIRST_ORDER, '--format', 'json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      steadyState: { steps: { residenceTime: number; figures: { conversion: number } }[] };
    };
    const step = result.steadyState.steps[0]!;
    // k = 0.005 /s at 25 °C (the recipe), τ = V/Q.
    expect(step.figures.conversion).toBeCloseTo(1 - Math.exp(-0.005 * step.residenceTime), 6);
  });

  it('applies --set overrides and reports a setpoint past its engineering limit, unclipped', async () => {
    const nominal = await pipac('sim', '--format', 'json');
    const hot = await pipac('sim', '--format', 'json', '--set', 'TC-101=95');
    expect(hot.code).toBe(0);
    type Out = {
      steadyState: {
        steps: { figures: { conversion: number } }[];
        violations: { quantity: string; value: number }[];
      };
    };
    const before = JSON.parse(nominal.stdout) as Out;
    const after = JSON.parse(hot.stdout) as Out;
    expect(after.steadyState.steps[0]!.figures.conversion).toBeGreaterThan(
      before.steadyState.steps[0]!.figures.conversion,
    );
    expect(after.steadyState.violations).toContainEqual(
      expect.objectContaining({ quantity: 'jacket-temperature TC-101', value: 95 }),
    );
  });

  it('runs a scenario over time with a trace, key figures, events and a plot', async () => {
    const plot = join(dir, 'run.svg');
    const csv = join(dir, 'run.csv');
    const table = await pipac(
      'sim',
      '--scenario',
      'analyser-outage',
      '--duration',
      '4h',
      '--interval',
      '30m',
      '--warm-up',
      '1h',
      '--plot',
      plot,
    );
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Scenario analyser-outage on paracetamol, 4 h');
    expect(table.stdout).toContain('analyser-fault');
    expect(table.stdout).toMatch(/mass balance error -?\d/);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/class="panel"/g) ?? []).length).toBe(4);

    const again = await pipac(
      'sim',
      '--scenario',
      'analyser-outage',
      '--duration',
      '4h',
      '--interval',
      '30m',
      '--warm-up',
      '1h',
      '--format',
      'csv',
      '--out',
      csv,
    );
    expect(again.code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toContain('nitration.conversion');
    expect(lines).toHaveLength(1 + 9); // t = 0 and every 30 min for 4 h
  });

  it('gives the same trace for the same seed, and another for another seed', async () => {
    const run = async (seed: string) =>
      (
        await pipac(
          'sim',
          '--scenario',
          'combined',
          '--duration',
          '2h',
          '--interval',
          '20m',
          '--warm-up',
          '0',
          '--seed',
          seed,
          '--format',
          'csv',
        )
      ).stdout;
    const first = await run('7');
    expect(await run('7')).toBe(first);
    expect(await run('8')).not.toBe(first);
  });

  it.each([
    [['sim', '--set', 'NOPE=1'], /--set: unknown device tag "NOPE"/],
    [['sim', '--set', 'TC-101=warm'], /--set: "TC-101=warm" is not TAG=number/],
    [
      ['sim', '--scenario', 'combined', '--duration', 'soon'],
      /--duration: "soon" is not a duration/,
    ],
    [['sim', '--scenario', 'meteor'], /invalid/],
  ])('refuses bad arguments with exit code 2: %j', async (args, message) => {
    const { code, stderr } = await pipac(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('refuses a bad recipe with exit code 2, naming the field', async () => {
    const recipe = join(dir, 'bad.yaml');
    writeFileSync(recipe, readFileSync(FIRST_ORDER, 'utf8').replace(/volume: \d+/, 'volume: -5'));
    const { code, stderr } = await pipac('sim', '--recipe', recipe);
    expect(code).toBe(2);
    expect(stderr).toContain('steps[reaction].reactor.volume');
  });
});
