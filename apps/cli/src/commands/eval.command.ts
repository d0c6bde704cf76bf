import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { lineChartSvg, type Panel } from '@pipac/charts';
import { StepSpace, loadStepPolicy, type OnnxPolicy, type Policy } from '@pipac/control';
import {
  CONTROLLER_KINDS,
  evaluateControllers,
  type ControllerKind,
  type Evaluation,
  type EvaluationRow,
} from '@pipac/rl';
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';
import { SCENARIO_NAMES } from '@pipac/twin';
import { parseDuration } from '../format/duration';
import { REPOSITORY_ROOT, defaultRecipePath } from '../format/paths';
import { ProgressReporter } from '../format/progress';
import { parseSeed } from '../format/seed';
import { formatNumber, formatTable } from '../format/table';
import { UsageError } from '../format/usage.error';
import { assertCreatableDirectory } from '../format/writable';

interface EvalOptions {
  recipe: string;
  models?: string;
  scenario: string[];
  controller: string[];
  duration: string;
  seed: string;
  dt: string;
  plots?: string;
  format: 'table' | 'json';
}

/** Quality targets of the deployed agents (issue 4), checked after the table. */
const TARGET_FRACTION_OF_ORACLE = 0.97;

/** `pipac eval`: the agents, each baseline and the oracle over the named scenarios. */
export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'Evaluate the trained agents against the fixed recipe, the PID baseline and the oracle on disturbance ' +
        'scenarios: in-spec product, fraction of the oracle, yield, E-factor, energy, shield interventions, ' +
        'limit violations; with --plots, conversion, flow and product over time per scenario (SVG).',
    )
    .option('-r, --recipe <file>', 'recipe (YAML)', defaultRecipePath())
    .option('--models <dir>', 'trained models (default models/<recipe name>)')
    .addOption(
      new Option('-s, --scenario <name...>', 'scenarios (default: all)')
        .choices([...SCENARIO_NAMES])
        .default([...SCENARIO_NAMES]),
    )
    .addOption(
      new Option('-c, --controller <name...>', 'controllers (default: all)')
        .choices([...CONTROLLER_KINDS])
        .default([...CONTROLLER_KINDS]),
    )
    .option('-d, --duration <time>', 'simulated time per scenario', '8h')
    .option('--seed <n>', 'seed of the scenarios and the plant noise', '1')
    .option('--dt <seconds>', 'integration step of the twin', '1')
    .option('-p, --plots <dir>', 'write one SVG per scenario into this folder')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['table', 'json'])
        .default('table'),
    )
    .action(async (options: EvalOptions) => {
      const recipe = loadRecipe(options.recipe);
      const model = compilePlant(recipe);
      const duration = parseDuration(options.duration, '--duration');
      const dt = Number(options.dt);
      if (!(dt > 0)) throw new UsageError(`--dt: expected a positive number, got "${options.dt}"`);
      if (options.plots) assertCreatableDirectory(options.plots, '--plots');
      const controllers = options.controller as ControllerKind[];
      const policies: Record<string, Policy> = {};
      const loaded: OnnxPolicy[] = [];
      if (controllers.includes('agent')) {
        const dir = options.models ?? join(REPOSITORY_ROOT, 'models', recipe.metadata.name);
        for (const step of model.steps) {
          const { policy } = await loadStepPolicy(
            dir,
            new StepSpace(model, step.id),
            recipe.metadata.name,
          ).catch((error: unknown) => {
            throw new UsageError(
              `--models: no usable policy for step ${step.id} (${error instanceof Error ? error.message : String(error)}); run pipac train first`,
            );
          });
          policies[step.id] = policy;
          loaded.push(policy);
        }
      }
      const progress = new ProgressReporter(
        'pipac eval',
        options.scenario.length * controllers.length,
      );
      let done = 0;
      try {
        const evaluation = await evaluateControllers({
          model,
          scenarios: options.scenario,
          controllers,
          policies,
          duration,
          seed: parseSeed(options.seed),
          dt,
          onRun: () => progress.update(++done),
        });
        progress.done();
        if (options.plots) {
          mkdirSync(options.plots, { recursive: true });
          for (const scenario of options.scenario) {
            const path = join(options.plots, `${scenario}.svg`);
            writeFileSync(
              path,
              scenarioChart(model, evaluation, scenario, parseSeed(options.seed)),
            );
            process.stderr.write(`wrote ${path}\n`);
          }
        }
        process.stdout.write(
          options.format === 'json'
            ? `${JSON.stringify({ rows: evaluation.rows, tunings: evaluation.tunings, versions: Object.fromEntries(Object.entries(policies).map(([s, p]) => [s, p.version])) }, null, 2)}\n`
            : report(evaluation, policies),
        );
      } finally {
        await Promise.all(loaded.map((p) => p.release()));
      }
    });
}

function report(evaluation: Evaluation, policies: Record<string, Policy>): string {
  const rows = evaluation.rows;
  const table = formatTable(
    [
      'scenario',
      'controller',
      'in-spec product, g',
      'of oracle',
      'yield',
      'E-factor',
      'energy, kWh',
      'interventions',
      'fallback cycles',
      'limit violations',
    ],
    rows.map((r) => [
      r.scenario,
      r.controller,
      r.inSpecProduct,
      r.fractionOfOracle,
      r.yield,
      r.eFactor,
      r.energy,
      r.interventions,
      r.fallbackCycles,
      r.limitViolations,
    ]),
  );
  const lines = [table, ''];
  const mean = (list: EvaluationRow[]) =>
    list.reduce((sum, r) => sum + r.fractionOfOracle, 0) / Math.max(1, list.length);
  for (const kind of CONTROLLER_KINDS) {
    const list = rows.filter((r) => r.controller === kind);
    if (list.length > 0 && kind !== 'oracle')
      lines.push(
        `${kind}: ${formatNumber(100 * mean(list))} % of the oracle's in-spec product on average`,
      );
  }
  const agent = rows.filter((r) => r.controller === 'agent');
  if (agent.length > 0) {
    const fraction = mean(agent);
    const worse = agent.filter((a) => {
      const pid = rows.find((r) => r.scenario === a.scenario && r.controller === 'pid');
      return pid !== undefined && a.inSpecProduct < pid.inSpecProduct;
    });
    const violations = agent.reduce((sum, r) => sum + r.limitViolations, 0);
    lines.push(
      '',
      'targets (deployed agents):',
      `  ≥ ${TARGET_FRACTION_OF_ORACLE * 100} % of the oracle on average: ${formatNumber(100 * fraction)} % — ${fraction >= TARGET_FRACTION_OF_ORACLE ? 'met' : 'NOT MET'}`,
      `  no worse than the PID on any scenario: ${worse.length === 0 ? 'met' : `NOT MET (${worse.map((w) => w.scenario).join(', ')})`}`,
      `  no limit violations: ${violations === 0 ? 'met' : `NOT MET (${violations})`}`,
      `models: ${Object.entries(policies)
        .map(([step, p]) => `${step} ${p.version.slice(0, 19)}`)
        .join(', ')}`,
    );
  }
  lines.push('', 'PID tuning (SIMC):');
  for (const [step, tuning] of Object.entries(evaluation.tunings)) {
    lines.push(
      `  ${step}: Kp ${formatNumber(tuning.kp)}, Ti ${formatNumber(tuning.ti)} s — ${tuning.method}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Plant product in spec, and per step conversion and flow scale, for every controller. */
function scenarioChart(
  model: PlantModel,
  evaluation: Evaluation,
  scenario: string,
  seed: number,
): string {
  const runs = evaluation.runs.filter((r) => r.scenario === scenario);
  const first = runs[0]!.result.trace;
  const last = model.steps.at(-1)!.id;
  /** One panel: the trace column `column` of every controller, each in its own colour. */
  const panel = (title: string, unit: string, column: string): Panel => ({
    title,
    unit,
    series: runs.map((r) => ({
      label: r.controller,
      values: r.result.trace.map((row) => row[column] ?? Number.NaN),
      colour: CONTROLLER_KINDS.indexOf(r.controller),
    })),
  });
  const panels: Panel[] = [
    panel(
      `${model.recipe.metadata.name} product made in spec (cumulative)`,
      'g',
      `${last}.product_in_spec`,
    ),
    ...model.steps.flatMap((step) => [
      panel(
        `${step.id}: true conversion (minimum ${formatNumber(step.minConversion)})`,
        '',
        `${step.id}.conversion`,
      ),
      panel(`${step.id}: flow (${step.inlets[0]!.pump}) ÷ nominal`, '', `${step.id}.flow_scale`),
    ]),
  ];
  return lineChartSvg({
    title: `${model.recipe.metadata.name}: scenario ${scenario}`,
    subtitle: `seed ${seed}; agents vs PID vs fixed recipe vs oracle`,
    xLabel: 'time, h',
    x: first.map((row) => (row['t'] ?? 0) / 3600),
    panels,
  });
}
