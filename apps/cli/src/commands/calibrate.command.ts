import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { parityPlotSvg } from '@pipac/charts';
import { parseRecipe, type Recipe } from '@pipac/recipe';
import {
  calibrate,
  calibratedRecipeYaml,
  calibrationReport,
  compareWithTruth,
  FIGURE_QUANTITIES,
  formatExperimentTable,
  formatFromName,
  formatSignificant,
  intervalDigits,
  isQuantityKey,
  loadExperimentTable,
  parseNoiseModel,
  parseSigmaOption,
  syntheticExperiments,
  type CalibrationResult,
  type FittedParameter,
  type QuantityKey,
  type StopReason,
  type SyntheticDesign,
  type TruthComparison,
} from '@pipac/twin';
import { parseSeed } from '../format/seed';
import { formatTable } from '../format/table';
import { UsageError } from '../format/usage.error';
import { assertCreatableDirectory, assertWritableFile } from '../format/writable';

/**
 * `pipac calibrate`: fits kinetic parameters of a recipe to steady-state experiments and writes
 * the calibrated recipe, a JSON report and a parity plot; `pipac calibrate synth` makes a
 * synthetic experiment table with known parameters, for demos and tests (docs/calibration.md).
 *
 * Errors are thrown, not printed: main maps UsageError, RecipeError and CalibrationError (by
 * code, all but MODEL_FAILED) to exit code 2 with their message, which names the field and the
 * reason; MODEL_FAILED and solver failures end with exit code 1.
 *
 * `--recipe`, `--step` and `--out` are declared on both commands and read with
 * `optsWithGlobals()`: without positional options (commander's default) the parent parses them
 * even after `synth`; with them, synth does. Neither declares a default for them, since a
 * parent's default would override the subcommand's value in the merge.
 */
interface CalibrateOptions {
  recipe?: string;
  experiments?: string;
  fit?: string;
  step?: string;
  out?: string;
  sigma?: string;
  confidence: string;
  maxIterations: string;
  json?: boolean;
}

interface SynthOptions {
  recipe?: string;
  step?: string;
  out?: string;
  truth?: string;
  flow: string[];
  tank: string[];
  temperature?: string;
  measure?: string;
  replicates: string;
  seed: string;
  noise?: string;
}

const DEFAULT_OUT = 'calibration';

export function calibrateCommand(): Command {
  const command = new Command('calibrate')
    .description(
      'Fit kinetic parameters of a recipe to steady-state experiments by weighted nonlinear least squares; ' +
        'print them with confidence intervals and the fit quality, and write <out>/calibrated-recipe.yaml, ' +
        '<out>/calibration-report.json and <out>/parity.svg.',
    )
    .option('-r, --recipe <file>', 'recipe to calibrate (YAML)')
    .option('-e, --experiments <file>', 'experiment table: CSV, YAML or JSON (docs/calibration.md)')
    .option(
      '--fit <parameters>',
      'parameters to fit, comma-separated, each optionally with a start value: ' +
        'reactions.<id>.k, reactions.<id>.activationEnergy, reactions.<id>.orders.<species> (e.g. reactions.r1.k,reactions.r1.activationEnergy=60)',
    )
    .option('--step <id>', "step of the rows that name none (default: the recipe's only step)")
    .option('-o, --out <dir>', `output directory (default: ${DEFAULT_OUT})`)
    .option(
      '--sigma <noise>',
      'measurement noise that weights the residuals: 2% (relative), 0.005 (absolute), 2%+0.005, or per quantity ' +
        "c:b=0.005,conversion=1% (default: relative to each value, floored at 1% of its quantity's largest)",
    )
    .option(
      '--confidence <level>',
      'two-sided confidence level of the intervals, 0.95 or 95%',
      '0.95',
    )
    .option('--max-iterations <n>', 'Levenberg–Marquardt steps at most', '100')
    .option('--json', 'print the JSON report on standard output instead of tables')
    .action((_options: CalibrateOptions, self: Command) =>
      runCalibrate(self.optsWithGlobals<CalibrateOptions>()),
    );
  const synth = synthCommand();
  command.addCommand(synth);
  // main configures error handling (exitOverride) on its direct children only; pass it on.
  command.hook('preSubcommand', (parent, sub) => {
    sub.copyInheritedSettings(parent);
  });
  return command;
}

function synthCommand(): Command {
  return new Command('synth')
    .description(
      'Write a synthetic experiment table: the recipe with the --truth parameters solved on a full-factorial grid of ' +
        'flows and jacket temperatures, plus seeded Gaussian noise. The table records the truth, so `pipac calibrate` ' +
        'can show it recovers the parameters within their confidence intervals.',
    )
    .option('-r, --recipe <file>', 'recipe (YAML)')
    .option('--step <id>', "step to run (default: the recipe's only step)")
    .option('-o, --out <file>', 'table to write: .csv, .yaml or .json')
    .option(
      '--truth <values>',
      "true parameter values, e.g. reactions.r1.k=0.0065,reactions.r1.activationEnergy=55 (default: the recipe's)",
    )
    .addOption(
      new Option(
        '--flow <pump=levels>',
        'flow levels of a pump, mL/min, e.g. P-101=0.5,1,2,4; repeat for each pump',
      )
        .argParser(collect)
        .default([], '0.5×, 1×, 2× nominal'),
    )
    .option(
      '--temperature <levels>',
      'jacket temperatures, °C, e.g. 15,25,35,45 (default: nominal −10, 0, +10, +20)',
    )
    .addOption(
      new Option(
        '--tank <tank:species=c>',
        'composition of a surge tank feeding the step, mol/L, e.g. tank-1:4-nitrophenol=0.3; repeat per species',
      )
        .argParser(collect)
        .default([], 'none'),
    )
    .option(
      '--measure <quantities>',
      'measured quantities, e.g. c:a,c:b,conversion,yield,selectivity,eFactor (default: key reactant and product concentrations)',
    )
    .option('--replicates <n>', 'repeats of each design point', '1')
    .option('--seed <n>', 'seed of the noise, a 32-bit integer', '1')
    .option(
      '--noise <noise>',
      'measurement noise: 2% (relative), 0.002 (absolute) or 2%+0.002 (default: none)',
    )
    .action((_options: SynthOptions, self: Command) =>
      runSynth(self.optsWithGlobals<SynthOptions>()),
    );
}

function runCalibrate(options: CalibrateOptions): void {
  const recipePath = required(options.recipe, '--recipe', 'the recipe to calibrate');
  const experimentsPath = required(options.experiments, '--experiments', 'the experiment table');
  const fit = parseFitList(
    required(options.fit, '--fit', 'the parameters to fit, e.g. reactions.<id>.k'),
  );
  const confidenceLevel = parseConfidence(options.confidence);
  const maxIterations = parsePositiveInteger(options.maxIterations, '--max-iterations');
  const sigma =
    options.sigma === undefined ? undefined : parseSigmaOption(options.sigma, '--sigma');
  const out = options.out ?? DEFAULT_OUT;
  // Fail before the fit, not after it.
  assertCreatableDirectory(out, '--out');

  const recipeText = readText(recipePath, '--recipe');
  const recipe = parseRecipe(recipeText, recipePath);
  const table = loadExperimentTable(experimentsPath);
  const quiet = process.env['PIPAC_QUIET'] !== undefined;
  const result = calibrate(recipe, table, {
    parameters: fit.map((f) => f.path),
    initial: Object.fromEntries(
      fit.flatMap((f) => (f.initial === undefined ? [] : [[f.path, f.initial]])),
    ),
    ...(options.step !== undefined ? { step: options.step } : {}),
    ...(sigma !== undefined ? { sigma } : {}),
    confidenceLevel,
    maxIterations,
    onProgress: (iteration, ssr) => {
      if (!quiet)
        process.stderr.write(
          `calibrate: iteration ${iteration}, weighted SSR ${formatSignificant(ssr, 6)}\n`,
        );
    },
  });
  const truth = table.truth ? compareWithTruth(recipe, result.parameters, table.truth) : [];
  const report = calibrationReport(result, { recipeSource: recipePath, truth });

  mkdirSync(out, { recursive: true });
  const files = {
    recipe: join(out, 'calibrated-recipe.yaml'),
    report: join(out, 'calibration-report.json'),
    plot: join(out, 'parity.svg'),
  };
  writeFileSync(files.recipe, calibratedRecipeYaml(result.recipe, result.parameters, recipeText));
  writeFileSync(files.report, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.plot, parityPlot(recipe, result));

  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${describe(recipe, experimentsPath, result, truth)}\n`);
  process.stderr.write(`wrote ${files.recipe}, ${files.report}, ${files.plot}\n`);
}

function runSynth(options: SynthOptions): void {
  const recipePath = required(options.recipe, '--recipe', 'the recipe to generate data from');
  const out = required(options.out, '--out', 'the table to write (.csv, .yaml or .json)');
  const format = formatFromName(out);
  if (!format) throw new UsageError(`--out: "${out}" must end in .csv, .yaml, .yml or .json`);
  assertWritableFile(out, '--out', { createParents: true });
  const recipe = parseRecipe(readText(recipePath, '--recipe'), recipePath);
  const truth =
    options.truth === undefined ? undefined : parseAssignments(options.truth, '--truth');
  const design: SyntheticDesign = {
    replicates: parsePositiveInteger(options.replicates, '--replicates'),
  };
  if (options.flow.length > 0) {
    design.flows = Object.fromEntries(
      options.flow.map((entry) => {
        const eq = entry.indexOf('=');
        if (eq <= 0) throw new UsageError(`--flow: "${entry}" is not PUMP=level,level,…`);
        return [
          entry.slice(0, eq).trim(),
          parseNumberList(entry.slice(eq + 1), `--flow ${entry.slice(0, eq).trim()}`),
        ];
      }),
    );
  }
  for (const entry of options.tank) {
    const match = /^([^:=]+):([^=]+)=(.+)$/.exec(entry.trim());
    const value = Number(match?.[3]);
    if (!match || !Number.isFinite(value) || value < 0)
      throw new UsageError(`--tank: "${entry}" is not TANK:SPECIES=mol/L`);
    ((design.tankCompositions ??= {})[match[1]!] ??= {})[match[2]!] = value;
  }
  if (options.temperature !== undefined)
    design.jacketTemperatures = parseNumberList(options.temperature, '--temperature');
  const measure = options.measure
    ?.split(',')
    .map((q) => q.trim())
    .filter((q) => q !== '');
  for (const quantity of measure ?? []) {
    if (!isQuantityKey(quantity))
      throw new UsageError(
        `--measure: "${quantity}" is not c:<species> or one of ${FIGURE_QUANTITIES.join(', ')}`,
      );
  }
  const noise = options.noise === undefined ? undefined : parseNoiseModel(options.noise, '--noise');
  const seed = parseSeed(options.seed, '--seed');

  const table = syntheticExperiments(recipe, {
    ...(options.step !== undefined ? { step: options.step } : {}),
    ...(truth ? { truth } : {}),
    design,
    ...(measure ? { measure: measure as QuantityKey[] } : {}),
    ...(noise ? { noise } : {}),
    seed,
  });
  mkdirSync(dirname(out), { recursive: true });
  // Say in the file itself that these are not measurements, and how to make them again.
  const origin = [
    `synthetic experiments, not measurements: pipac calibrate synth --recipe ${recipePath}${options.step ? ` --step ${options.step}` : ''}`,
    `  seed ${seed}, noise ${options.noise ?? 'none'}, replicates ${design.replicates ?? 1}`,
  ];
  writeFileSync(out, formatExperimentTable(table, format, { comments: origin }));
  const measurements = table.experiments.reduce(
    (sum, e) => sum + Object.keys(e.measurements).length,
    0,
  );
  const truthText = Object.entries(table.truth ?? {})
    .map(([path, value]) => `${path}=${value}`)
    .join(', ');
  process.stderr.write(
    `wrote ${out}: ${table.experiments.length} experiments, ${measurements} measurements, seed ${seed}, ` +
      `noise ${options.noise ?? 'none'}; truth ${truthText}\n`,
  );
}

/** The text report: parameters, fit quality by quantity, correlation, warnings. */
function describe(
  recipe: Recipe,
  experimentsPath: string,
  result: CalibrationResult,
  truth: readonly TruthComparison[],
): string {
  const { fit } = result;
  const level = `${formatSignificant(result.confidenceLevel * 100, 3)}%`;
  const steps = [...new Set(result.points.map((p) => p.step))].join(', ');
  const lines: string[] = [
    `Calibration of ${recipe.metadata.name} ${recipe.metadata.version} (step ${steps}) against ${experimentsPath}: ` +
      `${fit.experiments} experiments, ${fit.measurements} measurements, ${fit.parameters} parameters`,
    '',
  ];
  const truthBy = new Map(truth.map((t) => [t.path, t]));
  const header = ['parameter', 'value', 'std error', `${level} CI`, 'unit', 'start'];
  if (truth.length > 0) header.push('truth', 'in CI');
  lines.push(
    formatTable(
      header,
      result.parameters.map((p) => {
        const digits = intervalDigits(p.value, p.confidenceInterval);
        const f = (v: number) => formatSignificant(v, digits);
        const row = [
          p.path,
          f(p.value),
          formatSignificant(p.standardError, 2),
          `[${f(p.confidenceInterval[0])}, ${f(p.confidenceInterval[1])}]${p.intervalScale === 'log' ? ' (log)' : ''}`,
          p.unit,
          formatSignificant(p.initial),
        ];
        const t = truthBy.get(p.path);
        if (truth.length > 0)
          row.push(
            t ? formatSignificant(t.truth, 6) : '',
            t ? (t.withinInterval ? 'yes' : 'NO') : '',
          );
        return row;
      }),
    ),
  );
  if (result.parameters.some((p) => p.intervalScale === 'log')) {
    lines.push(
      '(log): computed for ln k and transformed back, so the interval is asymmetric around the value',
    );
  }
  if (truth.length === 0) lines.push('(the table records no truth: real experiments)');
  lines.push(
    '',
    `Fit: weighted SSR ${formatSignificant(fit.ssr)} (from ${formatSignificant(fit.initialSsr)}), ${fit.degreesOfFreedom} degrees of freedom, ` +
      `s = ${formatSignificant(fit.residualStandardError)}, R² ${formatSignificant(fit.rSquared, 5)} over all points; ` +
      `${fit.iterations} iterations, ${fit.evaluations} twin evaluations, ${STOP_REASONS[fit.stopReason]}`,
    '',
    formatTable(
      ['quantity', 'n', 'RMSE', 'unit', 'R²', 'weighting (σ)'],
      fit.byQuantity.map((q) => [
        q.quantity,
        String(q.count),
        formatSignificant(q.rmse, 3),
        q.unit,
        formatSignificant(q.rSquared, 5),
        q.weighting,
      ]),
    ),
  );
  if (result.parameters.length > 1) {
    lines.push('', 'Correlation (of ln k for rate constants):');
    const names = result.parameters.map(shortName);
    lines.push(
      formatTable(
        ['', ...names],
        result.correlation.map((row, i) => [names[i] ?? '', ...row.map((c) => c.toFixed(3))]),
      ),
    );
  }
  if (result.warnings.length > 0)
    lines.push('', 'Warnings:', ...result.warnings.map((w) => `  - ${w}`));
  return lines.join('\n');
}

const STOP_REASONS: Record<StopReason, string> = {
  'exact-fit': 'converged (exact fit)',
  'ssr-converged': 'converged (SSR change below 1e-10)',
  'step-converged': 'converged (parameter step below 1e-10)',
  'no-improvement': 'converged (no step improves the fit)',
  'max-iterations': 'NOT converged (iteration limit)',
};

function shortName(p: FittedParameter): string {
  const field = p.kind === 'order' ? `orders.${p.species ?? ''}` : p.kind;
  return `${p.reaction}.${field}`;
}

function parityPlot(recipe: Recipe, result: CalibrationResult): string {
  return parityPlotSvg(
    result.points.map((p) => ({
      measured: p.measured,
      predicted: p.predicted,
      quantity: p.quantity,
      label: p.experiment,
    })),
    {
      title: `Parity: ${recipe.metadata.name} calibrated on ${basename(result.experimentsSource ?? 'experiments')}`,
      subtitle:
        `${result.fit.measurements} measurements, ${result.parameters.length} parameters; ` +
        `R² ${formatSignificant(result.fit.rSquared, 5)}, s = ${formatSignificant(result.fit.residualStandardError, 3)}`,
    },
  );
}

function required(value: string | undefined, option: string, what: string): string {
  if (value === undefined || value.trim() === '')
    throw new UsageError(`${option} is required: ${what}`);
  return value;
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${option}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** `path[=start],…` */
function parseFitList(text: string): { path: string; initial?: number }[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0)
    throw new UsageError('--fit: name at least one parameter, e.g. reactions.<id>.k');
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq < 0) return { path: entry };
    const initial = Number(entry.slice(eq + 1));
    if (entry.slice(eq + 1).trim() === '' || !Number.isFinite(initial)) {
      throw new UsageError(`--fit: the start value in "${entry}" is not a number`);
    }
    return { path: entry.slice(0, eq).trim(), initial };
  });
}

/** `path=value,…` */
function parseAssignments(text: string, option: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    const value = Number(entry.slice(eq + 1));
    if (eq <= 0 || entry.slice(eq + 1).trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`${option}: "${entry}" is not <parameter>=<number>`);
    }
    result[entry.slice(0, eq).trim()] = value;
  }
  return result;
}

function parseNumberList(text: string, option: string): number[] {
  const values = text.split(',').map((s) => s.trim());
  if (values.some((v) => v === '' || !Number.isFinite(Number(v))))
    throw new UsageError(`${option}: "${text}" is not a comma-separated list of numbers`);
  return values.map(Number);
}

function parseConfidence(text: string): number {
  const value = text.trim().endsWith('%') ? Number(text.trim().slice(0, -1)) / 100 : Number(text);
  if (!(value > 0 && value < 1))
    throw new UsageError(
      `--confidence: "${text}" must lie strictly between 0 and 1 (or 0% and 100%)`,
    );
  return value;
}

function parsePositiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${option}: "${text}" is not a positive integer`);
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
