import { oneStepRecipe } from '@pipac/recipe/testing';
import { CalibrationError } from './calibration.error';
import { resolveExperiments } from './experiment-resolution';
import { formatExperimentTable, parseColumn, parseExperimentTable } from './experiment-table';
import type { ExperimentTable } from './experiment.types';

function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CalibrationError);
    expect((error as CalibrationError).code).toBe('EXPERIMENTS_INVALID');
    return (error as CalibrationError).message
      .split('\n')
      .slice(1)
      .map((line) => line.trim().replace(/^- /, ''));
  }
  throw new Error('expected a CalibrationError');
}

const CSV = `# truth: reactions.a-to-b.k=0.013, reactions.a-to-b.activationEnergy=62
id,step,flow:P-1,jacketTemperature,c:a,c:b,conversion,note
E1,reaction,1.5,25,0.21,0.78,,first run
E2,,3,,0.45,,0.55,"nominal temperature, no step"
`;

describe('parseExperimentTable', () => {
  it('reads conditions, measurements, labels and the truth from CSV', () => {
    const table = parseExperimentTable(CSV, { source: 'runs.csv' });
    expect(table.source).toBe('runs.csv');
    expect(table.truth).toEqual({
      'reactions.a-to-b.k': 0.013,
      'reactions.a-to-b.activationEnergy': 62,
    });
    expect(table.experiments).toEqual([
      {
        id: 'E1',
        row: 1,
        line: 3,
        step: 'reaction',
        conditions: { flows: { 'P-1': 1.5 }, jacketTemperature: 25 },
        measurements: { 'c:a': 0.21, 'c:b': 0.78 },
      },
      {
        id: 'E2',
        row: 2,
        line: 4,
        conditions: { flows: { 'P-1': 3 } },
        measurements: { 'c:a': 0.45, conversion: 0.55 },
      },
    ]);
  });

  it('reads the same table from YAML, as a list or with a truth map', () => {
    const list = parseExperimentTable(
      `- { id: E1, step: reaction, flow:P-1: 1.5, jacketTemperature: 25, c:a: 0.21, c:b: 0.78 }\n- { id: E2, flow:P-1: 3, c:a: 0.45, conversion: 0.55, c:b: null }\n`,
      { format: 'yaml' },
    );
    const csv = parseExperimentTable(CSV);
    expect(list.experiments.map(({ line: _line, ...rest }) => rest)).toEqual(
      csv.experiments.map(({ line: _line, ...rest }) => rest),
    );
    const mapped = parseExperimentTable(
      JSON.stringify({ truth: { 'reactions.a-to-b.k': 0.013 }, experiments: [{ 'c:a': 0.5 }] }),
      { source: 'runs.json' },
    );
    expect(mapped.truth).toEqual({ 'reactions.a-to-b.k': 0.013 });
    expect(mapped.experiments[0]).toMatchObject({
      id: 'row 1',
      row: 1,
      measurements: { 'c:a': 0.5 },
    });
  });

  it('reads surge-tank compositions and catalyst activity', () => {
    const table = parseExperimentTable(
      'tank:T-1:a,tank:T-1:b,catalystActivity,backPressure,c:c\n0.9,0.1,0.8,4,0.3\n',
    );
    expect(table.experiments[0]?.conditions).toEqual({
      tankCompositions: { 'T-1': { a: 0.9, b: 0.1 } },
      catalystActivity: 0.8,
      backPressure: 4,
    });
  });

  it('reads and writes feed temperatures (a conditioned feed), refusing one below absolute zero', () => {
    const table = parseExperimentTable('feedTemperature:feed,c:a\n5,0.4\n');
    expect(table.experiments[0]?.conditions).toEqual({ feedTemperatures: { feed: 5 } });
    expect(formatExperimentTable(table, 'csv').split('\n')[0]).toBe('id,feedTemperature:feed,c:a');
    expect(() => parseExperimentTable('feedTemperature:feed,c:a\n-300,0.4\n')).toThrow(
      CalibrationError,
    );
  });

  it('names the row, line and column of every bad cell', () => {
    const text =
      'flow:P-1,jacketTemperature,c:a,catalystActivity\n1,25,0.4,\nabc,25,0.4,\n1,-300,0.4,\n1,25,,\n-2,25,1..2,1.5\n';
    expect(issuesOf(() => parseExperimentTable(text, { source: 'bad.csv' }))).toEqual([
      'row 2 (line 3), column "flow:P-1": "abc" is not a number',
      'row 3 (line 4), column "jacketTemperature": -300 °C is below absolute zero',
      'row 4 (line 5): has no measured value: fill at least one c:<species> or conversion cell',
      'row 5 (line 6), column "flow:P-1": flow -2 mL/min is negative',
      'row 5 (line 6), column "c:a": "1..2" is not a number',
      'row 5 (line 6), column "catalystActivity": catalyst activity 1.5 is outside 0..1',
    ]);
  });

  it('refuses unknown, unnamed and duplicate columns, and rows longer than the header', () => {
    expect(
      issuesOf(() => parseExperimentTable('flow:P-1,temp,c:a,c:a,\n1,2,3,4,5\n1,2,3,4,5,6\n')),
    ).toEqual([
      expect.stringMatching(
        /^line 1, column "temp": is not a known column; expected id, note, step, flow:<pump>/,
      ),
      'line 1, column "c:a": appears twice in the header',
      'line 1, column "": a column has no name',
      'row 2 (line 3): has 6 cells but the header has 5 columns',
    ]);
  });

  it('refuses empty tables, bad YAML shapes and malformed truth lines', () => {
    expect(issuesOf(() => parseExperimentTable(''))).toEqual([
      expect.stringContaining('the table is empty'),
    ]);
    expect(issuesOf(() => parseExperimentTable('c:a\n'))).toEqual([
      'the table has a header but no experiments',
    ]);
    expect(issuesOf(() => parseExperimentTable('a: 1', { format: 'yaml' }))).toEqual([
      expect.stringContaining('expected a list of experiments'),
    ]);
    expect(issuesOf(() => parseExperimentTable('- 3\n', { format: 'yaml' }))).toEqual([
      'row 1: must be a map of column → value',
    ]);
    expect(issuesOf(() => parseExperimentTable('# truth: k\nc:a\n1\n'))).toEqual([
      'line 1: truth entry "k" must be <parameter>=<number>',
    ]);
  });

  it('recognises the column forms', () => {
    expect(parseColumn('flow:P-101')).toEqual({ kind: 'flow', pump: 'P-101' });
    expect(parseColumn('tank:T:1:a')).toEqual({ kind: 'tank', tank: 'T:1', species: 'a' });
    expect(parseColumn('c:4-nitrophenol')).toEqual({
      kind: 'measured',
      quantity: 'c:4-nitrophenol',
    });
    for (const figure of ['conversion', 'yield', 'selectivity', 'eFactor'])
      expect(parseColumn(figure)).toEqual({ kind: 'measured', quantity: figure });
    expect(parseColumn('feedTemperature:feed')).toEqual({ kind: 'feedTemperature', feed: 'feed' });
    for (const bad of [
      'flow:',
      'tank:T',
      'tank::a',
      'c:',
      'Yield',
      'Conversion',
      'feedTemperature:',
    ])
      expect(parseColumn(bad)).toBeUndefined();
  });
});

describe('formatExperimentTable', () => {
  const table: ExperimentTable = {
    truth: { 'reactions.a-to-b.k': 0.013 },
    experiments: [
      {
        id: 'S1',
        row: 1,
        step: 'reaction',
        conditions: { flows: { 'P-1': 2 }, jacketTemperature: 30 },
        measurements: { 'c:a': 0.123456789, conversion: 0.87654321 },
      },
      {
        id: 'S2',
        row: 2,
        step: 'reaction',
        conditions: { flows: { 'P-1': 4 } },
        measurements: { 'c:a': 0.5 },
      },
    ],
  };

  it.each(['csv', 'yaml', 'json'] as const)(
    'round-trips through parseExperimentTable as %s, rounding measurements',
    (format) => {
      const parsed = parseExperimentTable(formatExperimentTable(table, format), { format });
      expect(parsed.truth).toEqual(table.truth);
      expect(parsed.experiments.map(({ line: _line, ...rest }) => rest)).toEqual([
        { ...table.experiments[0], measurements: { 'c:a': 0.123457, conversion: 0.876543 } },
        table.experiments[1],
      ]);
    },
  );

  it('writes comments at the top of CSV and YAML', () => {
    const comments = ['synthetic data', 'seed 1'];
    expect(formatExperimentTable(table, 'csv', { comments }).split('\n').slice(0, 3)).toEqual([
      '# synthetic data',
      '# seed 1',
      '# truth: reactions.a-to-b.k=0.013',
    ]);
    const yaml = formatExperimentTable(table, 'yaml', { comments });
    expect(yaml.startsWith('# synthetic data\n# seed 1\n')).toBe(true);
    expect(parseExperimentTable(yaml, { format: 'yaml' }).experiments).toHaveLength(2);
  });

  it('writes a CSV header in first-seen column order', () => {
    expect(formatExperimentTable(table, 'csv').split('\n').slice(0, 3)).toEqual([
      '# truth: reactions.a-to-b.k=0.013',
      'id,step,flow:P-1,jacketTemperature,c:a,conversion',
      'S1,reaction,2,30,0.123457,0.876543',
    ]);
  });
});

describe('resolveExperiments', () => {
  const recipe = oneStepRecipe();

  it('fills in the only step and keeps the rest', () => {
    const [experiment] = resolveExperiments(parseExperimentTable('flow:P-1,c:a\n2,0.5\n'), recipe);
    expect(experiment?.step).toBe('reaction');
  });

  it('names the row and column of names the recipe lacks', () => {
    const table = parseExperimentTable(
      'step,flow:P-9,tank:T-1:a,c:zz,catalystActivity,c:a\nreaction,1,,,,0.5\nnope,,,,,0.5\nreaction,,0.5,0.1,0.5,0.5\n',
      { source: 'x.csv' },
    );
    let error: CalibrationError | undefined;
    try {
      resolveExperiments(table, recipe);
    } catch (e) {
      error = e as CalibrationError;
    }
    expect(error?.code).toBe('EXPERIMENTS_INVALID');
    expect(error?.issues.map((i) => [i.row, i.column])).toEqual([
      [1, 'flow:P-9'],
      [2, 'step'],
      [3, 'tank:T-1:a'],
      [3, 'c:zz'],
      [3, 'catalystActivity'],
    ]);
    expect(error?.message).toContain('experiment table x.csv does not match recipe "test-plant"');
    expect(error?.message).toContain(
      'row 1 (line 2), column "flow:P-9": pump "P-9" is not an inlet of step "reaction" (its pumps: P-1)',
    );
    expect(error?.message).toContain(
      'row 2 (line 3), column "step": unknown step "nope"; the recipe has reaction',
    );
  });

  it('reads the option of a choice, and names one the step lacks', () => {
    const withChoice = oneStepRecipe();
    withChoice.steps[0]!.choices = {
      catalyst: { default: 'pd', options: { pd: { reactions: ['a-to-b'] } } },
    };
    const table = parseExperimentTable('choice:catalyst,c:a\npd,0.4\n');
    expect(table.experiments[0]?.choices).toEqual({ catalyst: 'pd' });
    expect(formatExperimentTable(table, 'csv').split('\n')[0]).toBe('id,choice:catalyst,c:a');
    expect(resolveExperiments(table, withChoice)).toHaveLength(1);
    expect(() =>
      resolveExperiments(parseExperimentTable('choice:catalyst,c:a\nni,0.4\n'), withChoice),
    ).toThrow(/column "choice:catalyst": "ni" is not an option of catalyst \(pd\)/);
    expect(() => resolveExperiments(table, recipe)).toThrow(
      /step "reaction" has no choice "catalyst"/,
    );
  });

  it('names a feed temperature for a feed the step does not draw from', () => {
    expect(
      resolveExperiments(parseExperimentTable('feedTemperature:feed,c:a\n5,0.4\n'), recipe),
    ).toHaveLength(1);
    expect(() =>
      resolveExperiments(parseExperimentTable('feedTemperature:other,c:a\n5,0.4\n'), recipe),
    ).toThrow(/column "feedTemperature:other": feed "other" does not feed step "reaction"/);
  });

  it('asks for a step when the recipe has several and the row names none', () => {
    const twoSteps = {
      ...recipe,
      steps: [recipe.steps[0]!, { ...recipe.steps[0]!, id: 'second' }],
    };
    const table = parseExperimentTable('c:a\n0.5\n');
    expect(() => resolveExperiments(table, twoSteps)).toThrow(
      /column "step": is empty and the recipe has several steps \(reaction, second\)/,
    );
    expect(resolveExperiments(table, twoSteps, { step: 'second' })[0]?.step).toBe('second');
    expect(() => resolveExperiments(table, twoSteps, { step: 'third' })).toThrow(
      'unknown step "third"; the recipe has reaction, second',
    );
  });
});
