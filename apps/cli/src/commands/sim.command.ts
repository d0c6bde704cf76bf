import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { lineChartSvg, type Panel } from '@pipac/charts';
import {
  compilePlant,
  hasOption,
  loadRecipe,
  stepChoice,
  type PlantModel,
  type Recipe,
  type StepChoices,
} from '@pipac/recipe';
import {
  Plant,
  SCENARIO_NAMES,
  buildScenario,
  samplePlant,
  solvePlantSteadyState,
  summariseRun,
  type PlantConditions,
  type PlantSteadyState,
  type RunSummary,
} from '@pipac/twin';
import { parseDuration, parsePositive } from '../format/duration';
import { defaultRecipePath } from '../format/paths';
import { ProgressReporter } from '../format/progress';
import { parseSeed } from '../format/seed';
import { formatNumber, formatTable } from '../format/table';
import { UsageError } from '../format/usage.error';
import { assertWritableFile } from '../format/writable';

interface SimOptions {
  recipe: string;
  scenario?: string;
  duration: string;
  dt: string;
  seed: string;
  interval: string;
  warmUp: string;
  set: string[];
  format: 'table' | 'json' | 'csv';
  out?: string;
  plot?: string;
}

/** `pipac sim`: steady state at given conditions, or a disturbance scenario over time. */
export function simCommand(): Command {
  return new Command('sim')
    .description(
      'Simulate a plant: without --scenario, the steady state at the given setpoints (outlet compositions, key figures, safety); ' +
        'with --scenario, the dynamic plant over time (a trace every --interval, then key figures over the run).',
    )
    .option('-r, --recipe <file>', 'recipe (YAML)', defaultRecipePath())
    .addOption(
      new Option('-s, --scenario <name>', 'run this disturbance scenario over time').choices([
        ...SCENARIO_NAMES,
      ]),
    )
    .option(
      '-d, --duration <time>',
      'with --scenario: simulated time (e.g. 3600, 90m, 8h), a whole number of --dt steps',
      '8h',
    )
    .option('--dt <seconds>', 'with --scenario: fixed simulation step', '1')
    .option(
      '--seed <n>',
      'with --scenario: seed of the scenario and of the analyser noise, a 32-bit integer',
      '1',
    )
    .option(
      '--interval <time>',
      'with --scenario: trace sampling interval, at least --dt (rounded to the nearest multiple of --dt)',
      '10m',
    )
    .option(
      '--warm-up <time>',
      'with --scenario: run at the setpoints before t = 0 so the scenario starts at operating conditions (0 for none)',
      '2h',
    )
    .option(
      '--set <tag=value...>',
      'setpoint overrides by device tag: pump flow mL/min (gas NmL/min), thermostat °C, back-pressure bar; <feed>.temperature=°C conditions a feed; <step>.<choice>=<option> picks a catalyst or reagent',
      collect,
      [],
    )
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['table', 'json', 'csv'])
        .default('table'),
    )
    .option('-o, --out <file>', 'write the output to a file instead of standard output')
    .option(
      '-p, --plot <file.svg>',
      'with --scenario: also draw conversion, temperatures, tank levels and catalyst activity over time (SVG)',
    )
    .action((options: SimOptions, command: Command) => {
      if (!options.scenario) refuseScenarioOptions(command);
      const run = options.scenario ? parseRunOptions(options) : undefined;
      // Fail before a long run, not after it.
      if (options.out !== undefined) assertWritableFile(options.out, '--out');
      if (options.plot !== undefined) assertWritableFile(options.plot, '--plot');
      const recipe = loadRecipe(options.recipe);
      const { choices, rest } = splitChoices(options.set, recipe);
      const model = compilePlant(recipe, { choices });
      const setpoints = parseSettings(rest, model);
      const text = run
        ? runScenario(model, options, run, setpoints)
        : steadyState(model, options, setpoints);
      if (options.out) {
        writeFileSync(options.out, text);
        process.stderr.write(`wrote ${options.out}\n`);
      } else process.stdout.write(text);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Options of `sim` that only mean something with --scenario, by commander attribute name. */
const SCENARIO_ONLY: readonly [attribute: string, flag: string][] = [
  ['plot', '--plot'],
  ['duration', '--duration'],
  ['dt', '--dt'],
  ['interval', '--interval'],
  ['warmUp', '--warm-up'],
  ['seed', '--seed'],
];

/** Without --scenario, a scenario option the user gave (not a default) is a mistake: say so. */
function refuseScenarioOptions(command: Command): void {
  const given = SCENARIO_ONLY.filter(([attribute]) => {
    const source = command.getOptionValueSource(attribute);
    return source !== undefined && source !== 'default';
  }).map(([, flag]) => flag);
  if (given.length > 0)
    throw new UsageError(
      `${given.join(', ')} ${given.length === 1 ? 'needs' : 'need'} --scenario (without it, sim computes the steady state)`,
    );
}

interface RunOptions {
  duration: number;
  dt: number;
  /** Steps between trace samples. */
  every: number;
  /** Steps in the run. */
  steps: number;
  warmUp: number;
  seed: number;
}

/** The time options of a scenario run, checked against each other. */
function parseRunOptions(options: SimOptions): RunOptions {
  const duration = parseDuration(options.duration, '--duration');
  const interval = parseDuration(options.interval, '--interval');
  const warmUp = parseDuration(options.warmUp, '--warm-up', { allowZero: true });
  const dt = parsePositive(options.dt, '--dt');
  const seed = parseSeed(options.seed, '--seed');
  if (duration < dt)
    throw new UsageError(
      `--duration: ${formatNumber(duration)} s is shorter than one step (--dt ${formatNumber(dt)} s)`,
    );
  const steps = wholeSteps(duration, dt);
  if (steps === undefined)
    throw new UsageError(
      `--duration: ${formatNumber(duration)} s is not a whole number of --dt steps of ${formatNumber(dt)} s`,
    );
  if (interval < dt)
    throw new UsageError(
      `--interval: ${formatNumber(interval)} s is shorter than one step (--dt ${formatNumber(dt)} s)`,
    );
  // An interval between multiples of dt is rounded to the nearest (--help says so).
  const every = Math.max(1, Math.round(interval / dt));
  return { duration, dt, every, steps, warmUp, seed };
}

/** duration / dt when it is a whole number, up to rounding of the decimal inputs (0.1 s…). */
function wholeSteps(duration: number, dt: number): number | undefined {
  const ratio = duration / dt;
  const steps = Math.round(ratio);
  return steps >= 1 && Math.abs(ratio - steps) <= 1e-9 * steps ? steps : undefined;
}

/**
 * `<step>.<choice>=<option>` pairs (a step's discrete conditions, StepSpec.choices) apart from
 * the rest; an option the recipe lacks is refused with the ones it has.
 */
function splitChoices(pairs: string[], recipe: Recipe): { choices: StepChoices; rest: string[] } {
  const choices: StepChoices = {};
  const rest: string[] = [];
  for (const pair of pairs) {
    const [key = '', value = ''] = pair.split('=', 2).map((part) => part.trim());
    const dot = key.indexOf('.');
    const step = recipe.steps.find((s) => s.id === key.slice(0, dot));
    const choice = dot > 0 && step ? stepChoice(step, key.slice(dot + 1)) : undefined;
    if (!step || !choice) {
      rest.push(pair);
      continue;
    }
    if (!hasOption(choice, value))
      throw new UsageError(
        `--set: ${key} has no option "${value}" (${Object.keys(choice.options).join(', ')})`,
      );
    (choices[step.id] ??= {})[key.slice(dot + 1)] = value;
  }
  return { choices, rest };
}

/** What `--set` sets: device setpoints by tag, and feed temperatures (°C) by feed id. */
interface Settings {
  setpoints: Map<string, number>;
  feedTemperatures: Record<string, number>;
}

const FEED_TEMPERATURE = /^(.+)\.temperature$/;

/** `TAG=value` and `<feed>.temperature=°C` pairs, checked against the recipe's tags and feeds. */
function parseSettings(pairs: string[], model: PlantModel): Settings {
  const known = new Set(
    model.steps.flatMap((s) => [
      ...s.inlets.map((i) => i.pump),
      s.thermostat.tag,
      s.backPressure.tag,
    ]),
  );
  const feeds = model.feeds.map((f) => f.id);
  const settings: Settings = { setpoints: new Map(), feedTemperatures: {} };
  for (const pair of pairs) {
    const match = /^([^=]+)=([^=]+)$/.exec(pair);
    const tag = match?.[1]?.trim();
    const raw = match?.[2] ?? '';
    const value = Number(raw);
    if (!tag || raw.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--set: "${pair}" is not TAG=number`);
    }
    const feed = FEED_TEMPERATURE.exec(tag)?.[1];
    if (feed !== undefined) {
      if (!feeds.includes(feed))
        throw new UsageError(`--set: unknown feed "${feed}"; the recipe has ${feeds.join(', ')}`);
      if (value <= -273.15)
        throw new UsageError(`--set: ${tag} ${value} °C is below absolute zero`);
      settings.feedTemperatures[feed] = value;
      continue;
    }
    if (!known.has(tag))
      throw new UsageError(
        `--set: unknown device tag "${tag}"; the recipe has ${[...known].join(', ')} (and <feed>.temperature for ${feeds.join(', ')})`,
      );
    settings.setpoints.set(tag, value);
  }
  return settings;
}

function steadyConditions(
  model: PlantModel,
  { setpoints, feedTemperatures }: Settings,
): PlantConditions {
  const steps: NonNullable<PlantConditions['steps']> = {};
  for (const step of model.steps) {
    const flows: Record<string, number> = {};
    for (const inlet of step.inlets) {
      const value = setpoints.get(inlet.pump);
      if (value !== undefined) flows[inlet.pump] = value;
    }
    const jacket = setpoints.get(step.thermostat.tag);
    const backPressure = setpoints.get(step.backPressure.tag);
    const drawn = step.inlets.flatMap((inlet) => {
      const feed = inlet.source === 'feed' ? model.feeds[inlet.sourceIndex]!.id : undefined;
      return feed !== undefined && feedTemperatures[feed] !== undefined ? [feed] : [];
    });
    steps[step.id] = {
      flows,
      ...(jacket !== undefined ? { jacketTemperature: jacket } : {}),
      ...(backPressure !== undefined ? { backPressure } : {}),
      ...(drawn.length > 0
        ? { feedTemperatures: Object.fromEntries(drawn.map((f) => [f, feedTemperatures[f]!])) }
        : {}),
    };
  }
  return { steps };
}

function steadyState(model: PlantModel, options: SimOptions, settings: Settings): string {
  const result = solvePlantSteadyState(model, steadyConditions(model, settings));
  if (options.format === 'json')
    return `${JSON.stringify({ recipe: model.recipe.metadata, steadyState: result }, jsonNumbers, 2)}\n`;
  if (options.format === 'csv') return steadyCsv(model, result);
  return steadyTable(model, result);
}

function steadyTable(model: PlantModel, result: PlantSteadyState): string {
  const { name, version } = model.recipe.metadata;
  const out: string[] = [`Steady state of ${name} ${version}`, ''];
  const species = model.speciesIds.filter((id) =>
    result.steps.some((s) => (s.inlet[id] ?? 0) > 0 || (s.outlet[id] ?? 0) > 1e-12),
  );
  out.push('Outlet compositions, mol/L');
  out.push(
    formatTable(
      ['species', ...result.steps.map((s) => s.step)],
      species.map((id) => [id, ...result.steps.map((s) => s.outlet[id] ?? 0)]),
    ),
  );
  out.push('', 'Key figures per step');
  const figure = (label: string, pick: (s: PlantSteadyState['steps'][number]) => number) => [
    label,
    ...result.steps.map(pick),
  ];
  out.push(
    formatTable(
      ['figure', ...result.steps.map((s) => s.step)],
      [
        figure('outlet flow, mL/min', (s) => s.outletFlow),
        figure('residence time, s', (s) => s.residenceTime),
        figure('conversion', (s) => s.figures.conversion),
        figure('selectivity', (s) => s.figures.selectivity),
        figure('yield', (s) => s.figures.yield),
        figure('production rate, g/h', (s) => s.figures.productionRate),
        figure('space-time yield, kg/(L·h)', (s) => s.figures.spaceTimeYield),
        figure('E-factor, kg/kg', (s) => s.figures.eFactor),
        figure('thermal power, W', (s) => s.figures.thermalPower),
        figure('outlet temperature, °C', (s) => s.outletTemperature),
        figure('hottest point, °C', (s) => s.safety.maxTemperature),
        figure('adiabatic rise, K', (s) => s.safety.adiabaticTemperatureRise),
        figure('MTSR, °C', (s) => s.safety.mtsr),
        figure('inlet pressure, bar', (s) => s.safety.pressure),
      ],
    ),
  );
  const f = result.figures;
  out.push('', `Plant (${model.recipe.product})`);
  out.push(
    formatTable(
      ['figure', 'value'],
      [
        ['overall yield, mol/mol', f.overallYield],
        ['production rate, g/h', f.productionRate],
        ['space-time yield, kg/(L·h)', f.spaceTimeYield],
        ['E-factor, kg/kg', f.eFactor],
        ['thermal power, W', f.thermalPower],
        ...Object.entries(result.tankNetInflow).map(([id, v]): [string, number] => [
          `${id} net inflow, L/h`,
          v,
        ]),
      ],
    ),
  );
  out.push(
    '',
    result.violations.length === 0 ? 'No engineering limit violated.' : 'LIMIT VIOLATIONS:',
  );
  for (const v of result.violations) out.push(`  ! ${v.message}`);
  return `${out.join('\n')}\n`;
}

function steadyCsv(model: PlantModel, result: PlantSteadyState): string {
  const lines = ['step,quantity,value,unit'];
  for (const s of result.steps) {
    for (const id of model.speciesIds) lines.push(`${s.step},outlet.${id},${s.outlet[id]},mol/L`);
    for (const [key, value] of Object.entries(s.figures)) lines.push(`${s.step},${key},${value},`);
    for (const [key, value] of Object.entries(s.safety)) lines.push(`${s.step},${key},${value},`);
  }
  for (const [key, value] of Object.entries(result.figures)) lines.push(`plant,${key},${value},`);
  return `${lines.join('\n')}\n`;
}

function runScenario(
  model: PlantModel,
  options: SimOptions,
  { duration, dt, every, steps, warmUp, seed }: RunOptions,
  { setpoints, feedTemperatures }: Settings,
): string {
  const scenario = buildScenario(options.scenario ?? 'nominal', model, seed, duration);
  const plant = new Plant(model, { dt, seed, scenario });
  for (const [tag, value] of setpoints) plant.setSetpoint(tag, value);
  for (const [feed, celsius] of Object.entries(feedTemperatures))
    plant.setFeedTemperature(feed, celsius);
  if (warmUp > 0) plant.warmUp(warmUp);
  const initialHoldup = plant.holdup();
  const rows: Record<string, number>[] = [samplePlant(plant)];
  const events = [];
  const progress = new ProgressReporter(`sim ${scenario.name}`, duration);
  for (let i = 1; i <= steps; i++) {
    plant.step();
    if (i % every === 0 || i === steps) {
      rows.push(samplePlant(plant));
      events.push(...plant.drainEvents());
      progress.update(plant.time);
    }
  }
  progress.done();
  const summary = summariseRun(plant, initialHoldup);
  if (options.plot) {
    writeFileSync(options.plot, scenarioPlot(model, scenario.name, seed, rows));
    process.stderr.write(`wrote ${options.plot}\n`);
  }
  if (options.format === 'json') {
    return `${JSON.stringify({ recipe: model.recipe.metadata, scenario, summary, events, trace: rows }, jsonNumbers, 2)}\n`;
  }
  if (options.format === 'csv') {
    const columns = Object.keys(rows[0] ?? {});
    return `${[columns.join(','), ...rows.map((row) => columns.map((c) => row[c]).join(','))].join('\n')}\n`;
  }
  return scenarioTable(
    model,
    scenario.name,
    rows,
    summary,
    events.map((e) => `  t=${formatNumber(e.t)} s  ${e.kind}: ${e.message}`),
  );
}

function scenarioTable(
  model: PlantModel,
  name: string,
  rows: Record<string, number>[],
  summary: RunSummary,
  events: string[],
): string {
  const out = [
    `Scenario ${name} on ${model.recipe.metadata.name}, ${formatNumber(summary.duration / 3600)} h`,
    '',
  ];
  const columns = [
    't',
    ...model.steps.flatMap((s) => [`${s.id}.conversion`, `${s.id}.temperature_max`]),
    ...model.tanks.map((t) => `${t.id}.level`),
  ];
  out.push(
    formatTable(
      columns.map((c) => (c === 't' ? 't, h' : c)),
      rows.map((row) =>
        columns.map((c) => (c === 't' ? (row[c] ?? 0) / 3600 : (row[c] ?? Number.NaN))),
      ),
    ),
  );
  out.push('', 'Key figures over the run');
  out.push(
    formatTable(
      ['step', 'conversion', 'selectivity', 'yield', 'g/h', 'E-factor', 'in spec'],
      summary.steps.map((s) => [
        s.step,
        s.conversion,
        s.selectivity,
        s.yield,
        s.productionRate,
        s.eFactor,
        s.inSpecFraction,
      ]),
    ),
  );
  const p = summary.plant;
  out.push(
    '',
    `Plant: ${formatNumber(p.productCollected)} g ${model.recipe.product} collected (${formatNumber(p.productInSpec)} g in spec), ` +
      `${formatNumber(p.productionRate)} g/h, overall yield ${formatNumber(p.overallYield)}, E-factor ${formatNumber(p.eFactor)}, ` +
      `thermal power ${formatNumber(p.thermalPower)} W, mass balance error ${formatNumber(p.massBalanceError)} g`,
  );
  out.push('', events.length === 0 ? 'No events.' : 'Events:', ...events);
  return `${out.join('\n')}\n`;
}

/** The trace as stacked panels over time: what happened, at a glance. */
function scenarioPlot(
  model: PlantModel,
  name: string,
  seed: number,
  rows: Record<string, number>[],
): string {
  const column = (key: string) => rows.map((row) => row[key] ?? Number.NaN);
  // Each step keeps its colour in every panel; a measurement is its step's colour, dashed.
  const conversion = model.steps.flatMap((step) => {
    const measured = step.spec.analyser?.measures.some((m) => m.quantity === 'conversion')
      ? [
          {
            label: `${step.id} (${step.spec.analyser.tag})`,
            values: column(`${step.id}.${step.spec.analyser.tag}.conversion`),
            colour: step.index,
            dashed: true,
          },
        ]
      : [];
    return [
      { label: step.id, values: column(`${step.id}.conversion`), colour: step.index },
      ...measured,
    ];
  });
  const panels: Panel[] = [
    {
      title: "Conversion of each step's key reactant (true, and as the analyser reports it)",
      unit: 'fraction',
      series: conversion,
    },
    {
      title: 'Hottest reactor temperature',
      unit: '°C',
      series: model.steps.map((s) => ({
        label: s.id,
        values: column(`${s.id}.temperature_max`),
        colour: s.index,
      })),
    },
  ];
  if (model.tanks.length > 0) {
    const tankColour = model.steps.length;
    panels.push({
      title: 'Surge tank levels',
      unit: 'L',
      series: model.tanks.map((t, i) => ({
        label: t.id,
        values: column(`${t.id}.level`),
        colour: tankColour + i,
      })),
    });
  }
  const beds = model.steps.filter((s) => s.catalyst);
  if (beds.length > 0) {
    panels.push({
      title: 'Catalyst activity',
      unit: 'fraction',
      series: beds.map((s) => ({
        label: s.id,
        values: column(`${s.id}.activity`),
        colour: s.index,
      })),
    });
  }
  return lineChartSvg({
    title: `${model.recipe.metadata.name}: scenario ${name}`,
    subtitle: `seed ${seed}, ${formatNumber((rows.at(-1)?.['t'] ?? 0) / 3600)} h`,
    xLabel: 'time, h',
    x: rows.map((row) => (row['t'] ?? 0) / 3600),
    panels,
  });
}

/** JSON has no Infinity or NaN: write them as strings rather than lose them as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
