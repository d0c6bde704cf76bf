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

  it('conditions a feed with --set <feed>.temperature, in the steady state and over time', async () => {
    type Out = { steadyState: { steps: { figures: { conversion: number } }[] } };
    const cold = await pipac('sim', '--format', 'json', '--set', 'phenol-solution.temperature=5');
    expect(cold.code).toBe(0);
    const nominal = JSON.parse((await pipac('sim', '--format', 'json')).stdout) as Out;
    // Nitration's feed enters 20 K colder: the coil's first part reacts slower.
    expect((JSON.parse(cold.stdout) as Out).steadyState.steps[0]!.figures.conversion).toBeLessThan(
      nominal.steadyState.steps[0]!.figures.conversion,
    );
    const run = await pipac(
      'sim',
      '--scenario',
      'nominal',
      '--duration',
      '10m',
      '--warm-up',
      '0',
      '--set',
      'phenol-solution.temperature=5',
    );
    expect(run.code).toBe(0);
  });

  it('picks a catalyst with --set <step>.<choice>=<option>, and names the options of a wrong one', async () => {
    // first-order-pfr with a choice of catalyst: the recipe's k, or one three times faster.
    const text = readFileSync(FIRST_ORDER, 'utf8')
      .replace(
        '    reactions: [isomerisation]\n',
        '    reactions: []\n    choices:\n      catalyst:\n        default: standard\n' +
          '        options:\n          standard: { reactions: [isomerisation] }\n' +
          '          active: { reactions: [isomerisation-active] }\n',
      )
      .replace(
        'reactions:\n  - id: isomerisation\n',
        'reactions:\n  - id: isomerisation-active\n    stoichiometry: { a: -1, b: 1 }\n' +
          '    rateLaw: { k: { value: 0.015, referenceTemperature: 25 }, activationEnergy: 60, orders: { a: 1 } }\n' +
          '  - id: isomerisation\n',
      );
    const recipe = join(dir, 'catalysts.yaml');
    writeFileSync(recipe, text);
    type Out = {
      steadyState: { steps: { residenceTime: number; figures: { conversion: number } }[] };
    };
    const conversion = async (...set: string[]) => {
      const run = await pipac('sim', '--recipe', recipe, '--format', 'json', ...set);
      expect(run.stderr).toBe('');
      const step = (JSON.parse(run.stdout) as Out).steadyState.steps[0]!;
      return { x: step.figures.conversion, tau: step.residenceTime };
    };
    const standard = await conversion();
    expect(standard.x).toBeCloseTo(1 - Math.exp(-0.005 * standard.tau), 6);
    const active = await conversion('--set', 'reaction.catalyst=active');
    expect(active.x).toBeCloseTo(1 - Math.exp(-0.015 * active.tau), 6);
    const wrong = await pipac('sim', '--recipe', recipe, '--set', 'reaction.catalyst=gold');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      '--set: reaction.catalyst has no option "gold" (standard, active)',
    );
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
    [['sim', '--set', 'nope.temperature=5'], /--set: unknown feed "nope"/],
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

  it.each(['0', '0s', '0m', '0h'])('takes --warm-up %s as no warm-up', async (zero) => {
    const { code, stdout } = await pipac(
      'sim',
      '--scenario',
      'nominal',
      '--duration',
      '60',
      '--interval',
      '30',
      '--warm-up',
      zero,
      '--format',
      'csv',
    );
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1 + 3); // t = 0, 30, 60 s
  });

  it('takes a --dt that divides --duration only up to rounding, and the signed 32-bit seed range', async () => {
    for (const seed of ['-2147483648', '2147483647']) {
      const { code, stdout } = await pipac(
        'sim',
        '--scenario',
        'nominal',
        '--duration',
        '3',
        '--dt',
        '0.1',
        '--interval',
        '1',
        '--warm-up',
        '0',
        '--seed',
        seed,
        '--format',
        'csv',
      );
      expect(code).toBe(0);
      expect(stdout.trim().split('\n')).toHaveLength(1 + 4);
    }
  });

  it('says in --help that 0 means no warm-up and that --interval is rounded to --dt', async () => {
    const { code, stdout } = await pipac('sim', '--help');
    expect(code).toBe(0);
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toContain('(0 for none)');
    expect(help).toContain('rounded to the nearest multiple of --dt');
  });

  it.each([
    [['--set', 'TC-101=1=2'], /--set: "TC-101=1=2" is not TAG=number/],
    [['--set', '=5'], /--set: "=5" is not TAG=number/],
    [['--scenario', 'nominal', '--seed', ''], /--seed: "" is not an integer/],
    [['--scenario', 'nominal', '--seed', '1.5'], /--seed: "1.5" is not an integer/],
    [['--scenario', 'nominal', '--seed', '1e3'], /--seed: "1e3" is not an integer/],
    [['--scenario', 'nominal', '--seed', '4294967297'], /--seed: 4294967297 is outside/],
    [['--scenario', 'nominal', '--seed', '2147483648'], /--seed: 2147483648 is outside/],
    [['--scenario', 'nominal', '--seed=-2147483649'], /--seed: -2147483649 is outside/],
    [['--scenario', 'nominal', '--warm-up', 'soon'], /--warm-up: "soon" is not a duration/],
    [['--scenario', 'nominal', '--duration', '0'], /--duration: "0" must be positive$/m],
    [
      ['--scenario', 'nominal', '--duration', '90', '--dt', '60'],
      /--duration: 90 s is not a whole number of --dt steps of 60 s/,
    ],
    [
      ['--scenario', 'nominal', '--duration', '30', '--dt', '60'],
      /--duration: 30 s is shorter than one step \(--dt 60 s\)/,
    ],
    [
      ['--scenario', 'nominal', '--interval', '0.5'],
      /--interval: 0.5 s is shorter than one step \(--dt 1 s\)/,
    ],
    [['--plot', 'x.svg'], /--plot needs --scenario/],
    [['--duration', '1h'], /--duration needs --scenario/],
    [['--dt', '2'], /--dt needs --scenario/],
    [['--interval', '1m'], /--interval needs --scenario/],
    [['--warm-up', '0'], /--warm-up needs --scenario/],
    [['--seed', '3'], /--seed needs --scenario/],
    [['--seed', '3', '--dt', '2'], /--dt, --seed need --scenario/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, stdout, stderr } = await pipac('sim', ...args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('refuses an --out or --plot it cannot write before running, with exit code 2', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const scenario = ['sim', '--scenario', 'combined', '--duration', '24h', '--warm-up', '8h'];
    const cases: [string[], string][] = [
      [['sim', '--out', join(dir, 'missing', 'out.txt')], '--out: directory'],
      [[...scenario, '--out', join(file, 'out.csv')], '--out: '],
      [[...scenario, '--out', dir], `--out: ${dir} is a directory`],
      [[...scenario, '--plot', join(dir, 'missing', 'plot.svg')], '--plot: directory'],
    ];
    for (const [args, message] of cases) {
      const started = Date.now();
      const { code, stdout, stderr } = await pipac(...args);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
      expect(stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(2000); // refused before the 32 h run
    }
  });

  it('refuses a bad recipe with exit code 2, naming the field', async () => {
    const recipe = join(dir, 'bad.yaml');
    writeFileSync(recipe, readFileSync(FIRST_ORDER, 'utf8').replace(/volume: \d+/, 'volume: -5'));
    const { code, stderr } = await pipac('sim', '--recipe', recipe);
    expect(code).toBe(2);
    expect(stderr).toContain('steps[reaction].reactor.volume');
  });
});
