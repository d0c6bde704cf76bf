import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseRecipe } from '@pipac/recipe';
import { parseExperimentTable } from '@pipac/twin';
import { REPOSITORY_ROOT } from '../format/paths';
import { pipac } from '../testing/run-pipac';
import { calibrateCommand } from './calibrate.command';

const RECIPE = join(REPOSITORY_ROOT, 'recipes', 'first-order-pfr.yaml');
const K = 'reactions.isomerisation.k';
const EA = 'reactions.isomerisation.activationEnergy';
/** Differs from the recipe's k = 0.005 /s and Ea = 60 kJ/mol, which are the starting values. */
const TRUTH = `${K}=0.0065,${EA}=55`;

describe('pipac calibrate', () => {
  let dir: string;
  let table: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-calibrate-'));
    table = join(dir, 'experiments.csv');
    const synth = await pipac(
      'calibrate',
      'synth',
      '--recipe',
      RECIPE,
      '--truth',
      TRUTH,
      '--flow',
      'P-101=1,3,8',
      '--temperature',
      '10,25,40',
      '--noise',
      '2%',
      '--seed',
      '7',
      '--out',
      table,
    );
    expect(synth).toMatchObject({ code: 0, stdout: '' });
    expect(synth.stderr).toContain(
      `wrote ${table}: 9 experiments, 18 measurements, seed 7, noise 2%`,
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('synth writes a table that says what it is and records the truth', () => {
    const text = readFileSync(table, 'utf8');
    expect(text.split('\n')[0]).toBe(
      `# synthetic experiments, not measurements: pipac calibrate synth --recipe ${RECIPE}`,
    );
    const parsed = parseExperimentTable(text, { source: table });
    expect(parsed.truth).toEqual({ [K]: 0.0065, [EA]: 55 });
    expect(parsed.experiments[0]).toMatchObject({
      id: 'S1',
      step: 'reaction',
      conditions: { flows: { 'P-101': 1 }, jacketTemperature: 10 },
    });
    expect(Object.keys(parsed.experiments[0]!.measurements)).toEqual(['c:a', 'c:b']);
  });

  it('recovers the synthetic truth within the 95% intervals and writes recipe, report and plot', async () => {
    const out = join(dir, 'fit');
    const { code, stdout, stderr } = await pipac(
      'calibrate',
      '--recipe',
      RECIPE,
      '--experiments',
      table,
      '--fit',
      `${K},${EA}`,
      '--out',
      out,
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(/^calibrate: iteration 0, weighted SSR [\d.]+$/m);
    expect(stdout).toContain('Calibration of first-order-pfr 1.0.0 (step reaction)');
    expect(stdout).toMatch(
      /reactions\.isomerisation\.k\s+0\.00\d+\s+\S+\s+\[[\d.]+, [\d.]+\] \(log\)\s+1\/s at 25 °C\s+0\.005\s+0\.0065\s+yes/,
    );
    expect(stdout).toMatch(
      /reactions\.isomerisation\.activationEnergy\s+[\d.]+\s+\S+\s+\[[\d.]+, [\d.]+\]\s+kJ\/mol\s+60\s+55\s+yes/,
    );
    expect(stdout).toContain('converged');

    const report = JSON.parse(readFileSync(join(out, 'calibration-report.json'), 'utf8')) as {
      parameters: { path: string; value: number; confidenceInterval: [number, number] }[];
      truth: { path: string; withinInterval: boolean }[];
      fit: { measurements: number; degreesOfFreedom: number };
      points: unknown[];
    };
    expect(report.truth.map((t) => [t.path, t.withinInterval])).toEqual([
      [K, true],
      [EA, true],
    ]);
    expect(report.fit).toMatchObject({ measurements: 18, degreesOfFreedom: 16 });
    expect(report.points).toHaveLength(18);

    const recipe = parseRecipe(readFileSync(join(out, 'calibrated-recipe.yaml'), 'utf8'));
    const reaction = recipe.reactions[0]!;
    expect(reaction.rateLaw.k.value).toBeCloseTo(report.parameters[0]!.value, 6);
    expect(reaction.rateLaw.activationEnergy).toBeCloseTo(report.parameters[1]!.value, 3);
    expect(reaction.provenance?.source).toMatch(
      /^calibrated by pipac calibrate from .*experiments\.csv \(9 experiments, 18 measurements\)/,
    );

    const svg = readFileSync(join(out, 'parity.svg'), 'utf8');
    expect(svg.match(/<circle class="point"/g)).toHaveLength(18);
  });

  it('prints the JSON report with --json, and takes start values and sigma', async () => {
    const { code, stdout } = await pipac(
      'calibrate',
      '-r',
      RECIPE,
      '-e',
      table,
      '--fit',
      `${K}=0.01,${EA}=40`,
      '--sigma',
      '2%',
      '--confidence',
      '90%',
      '-o',
      join(dir, 'json'),
      '--json',
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      confidenceLevel: number;
      parameters: { initial: number }[];
      fit: { byQuantity: { weighting: string }[] };
    };
    expect(report.confidenceLevel).toBe(0.9);
    expect(report.parameters.map((p) => p.initial)).toEqual([0.01, 40]);
    expect(report.fit.byQuantity[0]?.weighting).toBe('2%');
  });

  it('also works where the program enables positional options', async () => {
    const program = new Command('pipac').enablePositionalOptions().exitOverride();
    program.addCommand(calibrateCommand());
    const target = join(dir, 'positional.yaml');
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(
        ['calibrate', 'synth', '--recipe', RECIPE, '--temperature', '20,30', '--out', target],
        { from: 'user' },
      );
    } finally {
      err.mockRestore();
    }
    expect(
      parseExperimentTable(readFileSync(target, 'utf8'), { format: 'yaml' }).experiments,
    ).toHaveLength(6);
  });

  describe('exits with 2 and names the problem', () => {
    it.each([
      [['calibrate', '--experiments', 'x.csv', '--fit', K], '--recipe is required'],
      [['calibrate', '--recipe', RECIPE, '--fit', K], '--experiments is required'],
      [['calibrate', '--recipe', RECIPE, '--experiments', 'x.csv'], '--fit is required'],
      [
        ['calibrate', '--recipe', RECIPE, '--experiments', 'x.csv', '--fit', `${K}=fast`],
        '--fit: the start value in',
      ],
      [
        [
          'calibrate',
          '--recipe',
          RECIPE,
          '--experiments',
          'x.csv',
          '--fit',
          K,
          '--confidence',
          '2',
        ],
        '--confidence: "2" must lie strictly between 0 and 1',
      ],
      [
        ['calibrate', '--recipe', RECIPE, '--experiments', 'x.csv', '--fit', K, '--sigma', 'loud'],
        '--sigma *: "loud" must be a relative',
      ],
      [
        ['calibrate', '--recipe', 'missing.yaml', '--experiments', 'x.csv', '--fit', K],
        '--recipe: cannot read missing.yaml',
      ],
      [
        ['calibrate', 'synth', '--recipe', RECIPE, '--out', 'table.txt'],
        '--out: "table.txt" must end in .csv, .yaml, .yml or .json',
      ],
      [
        ['calibrate', 'synth', '--recipe', RECIPE, '--out', 'x.csv', '--flow', 'P-101'],
        '--flow: "P-101" is not PUMP=level',
      ],
      [
        ['calibrate', 'synth', '--recipe', RECIPE, '--out', 'x.csv', '--truth', 'k=fast'],
        '--truth: "k=fast" is not <parameter>=<number>',
      ],
      [
        ['calibrate', 'synth', '--recipe', RECIPE, '--out', 'x.csv', '--measure', 'purity'],
        '--measure: "purity" is not c:<species> or one of conversion, yield, selectivity, eFactor',
      ],
    ])('%j', async (args, message) => {
      const { code, stderr } = await pipac(...args);
      expect(stderr).toContain(message);
      expect(code).toBe(2);
    });

    it('for a --seed outside the signed 32-bit range or not an integer', async () => {
      for (const [seed, message] of [
        ['4294967297', '--seed: 4294967297 is outside the seed range'],
        ['1.5', '--seed: "1.5" is not an integer'],
        ['', '--seed: "" is not an integer'],
      ]) {
        const { code, stderr } = await pipac(
          'calibrate',
          'synth',
          '--recipe',
          RECIPE,
          '--seed',
          seed!,
          '--out',
          join(dir, 'seed.csv'),
        );
        expect(stderr).toContain(message);
        expect(code).toBe(2);
      }
    });

    it('for an --out it cannot write, before fitting', async () => {
      const { code, stderr } = await pipac(
        'calibrate',
        '--recipe',
        RECIPE,
        '--experiments',
        table,
        '--fit',
        K,
        '--out',
        join(table, 'fit'),
      );
      expect(code).toBe(2);
      expect(stderr).toContain(`--out: ${table} (in ${join(table, 'fit')}) is not a directory`);
      expect(stderr).not.toContain('iteration');
      const synthInto = await pipac(
        'calibrate',
        'synth',
        '--recipe',
        RECIPE,
        '--out',
        join(table, 'x.csv'),
      );
      expect(synthInto.code).toBe(2);
      expect(synthInto.stderr).toContain(`--out: ${table} is not a directory`);
    });

    it('for an unknown option', async () => {
      expect((await pipac('calibrate', '--recipe', RECIPE, '--bogus')).code).toBe(2);
      expect((await pipac('calibrate', 'synth', '--bogus')).code).toBe(2);
    });

    it('for a bad cell, naming its row and column', async () => {
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, 'flow:P-101,jacketTemperature,c:a\n2,25,0.4\n2,warm,0.3\n');
      const { code, stderr } = await pipac(
        'calibrate',
        '--recipe',
        RECIPE,
        '--experiments',
        bad,
        '--fit',
        K,
        '--out',
        join(dir, 'bad'),
      );
      expect(code).toBe(2);
      expect(stderr).toContain(`invalid experiment table ${bad}`);
      expect(stderr).toContain(
        'row 2 (line 3), column "jacketTemperature": "warm" is not a number',
      );
    });

    it('for a pump the step does not have', async () => {
      const bad = join(dir, 'pump.csv');
      writeFileSync(bad, 'flow:P-999,c:a\n2,0.4\n');
      const { code, stderr } = await pipac(
        'calibrate',
        '--recipe',
        RECIPE,
        '--experiments',
        bad,
        '--fit',
        K,
        '--out',
        join(dir, 'bad'),
      );
      expect(code).toBe(2);
      expect(stderr).toContain(
        'row 1 (line 2), column "flow:P-999": pump "P-999" is not an inlet of step "reaction" (its pumps: P-101)',
      );
    });

    it('for an unknown parameter or an unidentifiable one', async () => {
      const unknown = await pipac(
        'calibrate',
        '--recipe',
        RECIPE,
        '--experiments',
        table,
        '--fit',
        'reactions.nope.k',
        '--out',
        join(dir, 'bad'),
      );
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain(
        'parameter "reactions.nope.k": unknown reaction "nope"; the recipe has isomerisation',
      );
      const flat = join(dir, 'flat.csv');
      writeFileSync(flat, 'flow:P-101,jacketTemperature,c:a\n1,25,0.3\n2,25,0.5\n4,25,0.7\n');
      const oneTemperature = await pipac(
        'calibrate',
        '--recipe',
        RECIPE,
        '--experiments',
        flat,
        '--fit',
        `${K},${EA}`,
        '--out',
        join(dir, 'bad'),
      );
      expect(oneTemperature.code).toBe(2);
      expect(oneTemperature.stderr).toContain('every experiment on its step ran at about 25.0 °C');
    });

    it('for an invalid recipe, naming the field', async () => {
      const bad = join(dir, 'recipe.yaml');
      writeFileSync(
        bad,
        readFileSync(RECIPE, 'utf8').replace('volume: 10 # mL', 'volume: -10 # mL'),
      );
      const { code, stderr } = await pipac(
        'calibrate',
        '--recipe',
        bad,
        '--experiments',
        table,
        '--fit',
        K,
      );
      expect(code).toBe(2);
      expect(stderr).toContain('steps[reaction].reactor.volume');
    });
  });
});
