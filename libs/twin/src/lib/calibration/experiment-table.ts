import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { StepConditions } from '../steady/steady-state.types';
import { CalibrationError, type CalibrationIssue } from './calibration.error';
import { formatCsvRow, parseCsv } from './csv';
import {
  isQuantityKey,
  type Experiment,
  type ExperimentTable,
  type QuantityKey,
} from './experiment.types';

/**
 * Experiment tables: one row per steady-state experiment. Columns (docs/calibration.md):
 *
 *   id, note                      label and free text (optional)
 *   step                          step id (optional when the recipe has one step)
 *   flow:<pump>                   pump flow, mL/min (NmL/min for a gas mass-flow controller)
 *   jacketTemperature             °C
 *   backPressure                  bar
 *   catalystActivity              0..1 (packed beds)
 *   feedTemperature:<feed>        temperature of a feed as it enters (conditioned), °C
 *   choice:<name>                 the option of a step's discrete condition (a catalyst, a reagent)
 *   tank:<tank>:<species>         composition of an upstream surge tank feeding the step, mol/L
 *   c:<species>                   measured outlet concentration, mol/L
 *   conversion                    measured conversion of the step's key reactant, 0..1
 *   yield, selectivity            measured yield and selectivity of the step's product, 0..1
 *   eFactor                       measured E-factor, kg waste per kg product
 *
 * An empty condition cell means the recipe's nominal; an empty measured cell means not measured.
 * This module checks syntax only; `resolveExperiments` checks the names against a recipe.
 */
export type ExperimentTableFormat = 'csv' | 'yaml' | 'json';

type Column =
  | { kind: 'id' | 'note' | 'step' | 'jacketTemperature' | 'backPressure' | 'catalystActivity' }
  | { kind: 'flow'; pump: string }
  | { kind: 'feedTemperature'; feed: string }
  | { kind: 'choice'; choice: string }
  | { kind: 'tank'; tank: string; species: string }
  | { kind: 'measured'; quantity: QuantityKey };

const PLAIN_COLUMNS = [
  'id',
  'note',
  'step',
  'jacketTemperature',
  'backPressure',
  'catalystActivity',
] as const;

const COLUMN_HELP =
  'expected id, note, step, flow:<pump>, jacketTemperature, backPressure, catalystActivity, ' +
  'feedTemperature:<feed>, choice:<name>, tank:<tank>:<species>, c:<species>, conversion, yield, selectivity ' +
  'or eFactor';

/** Parses a column header; undefined when it is not one of the known forms. */
export function parseColumn(name: string): Column | undefined {
  if ((PLAIN_COLUMNS as readonly string[]).includes(name))
    return { kind: name as (typeof PLAIN_COLUMNS)[number] };
  if (name.startsWith('flow:') && name.length > 5) return { kind: 'flow', pump: name.slice(5) };
  if (name.startsWith('feedTemperature:') && name.length > 16)
    return { kind: 'feedTemperature', feed: name.slice(16) };
  if (name.startsWith('choice:') && name.length > 7)
    return { kind: 'choice', choice: name.slice(7) };
  if (name.startsWith('tank:')) {
    const rest = name.slice(5);
    const colon = rest.lastIndexOf(':');
    if (colon > 0 && colon < rest.length - 1)
      return { kind: 'tank', tank: rest.slice(0, colon), species: rest.slice(colon + 1) };
    return undefined;
  }
  if (isQuantityKey(name)) return { kind: 'measured', quantity: name };
  return undefined;
}

export interface ParseTableOptions {
  /** @default from the source's extension, else CSV */
  format?: ExperimentTableFormat;
  /** File name for messages. */
  source?: string;
}

/** Reads an experiment table file (CSV, YAML or JSON by extension). Throws CalibrationError. */
export function loadExperimentTable(
  path: string,
  options: Omit<ParseTableOptions, 'source'> = {},
): ExperimentTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CalibrationError(
      'EXPERIMENTS_INVALID',
      `cannot read experiment table ${path}: ${(error as Error).message}`,
      [],
      { cause: error },
    );
  }
  return parseExperimentTable(text, { ...options, source: path });
}

/** Parses an experiment table from text. Throws CalibrationError('EXPERIMENTS_INVALID') listing every bad cell. */
export function parseExperimentTable(
  text: string,
  options: ParseTableOptions = {},
): ExperimentTable {
  const format = options.format ?? formatFromName(options.source) ?? 'csv';
  const table =
    format === 'csv' ? parseCsvTable(text, options.source) : parseYamlTable(text, options.source);
  return options.source !== undefined ? { source: options.source, ...table } : table;
}

/** The format a file name implies, if any. */
export function formatFromName(name: string | undefined): ExperimentTableFormat | undefined {
  switch (name === undefined ? '' : extname(name).toLowerCase()) {
    case '.csv':
      return 'csv';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.json':
      return 'json';
    default:
      return undefined;
  }
}

function fail(source: string | undefined, issues: CalibrationIssue[]): never {
  const shown = issues.slice(0, 20);
  if (issues.length > shown.length)
    shown.push({ message: `… and ${issues.length - shown.length} more` });
  throw new CalibrationError(
    'EXPERIMENTS_INVALID',
    `invalid experiment table${source ? ` ${source}` : ''}`,
    shown,
  );
}

function parseCsvTable(text: string, source: string | undefined): Omit<ExperimentTable, 'source'> {
  let document;
  try {
    document = parseCsv(text);
  } catch (error) {
    fail(source, [{ message: (error as Error).message }]);
  }
  const [header, ...records] = document.records;
  if (!header)
    fail(source, [
      { message: 'the table is empty: it needs a header row and at least one experiment' },
    ]);
  const issues: CalibrationIssue[] = [];
  const columns = parseHeader(header.cells, issues, header.line);
  const truth = parseTruthComments(document.comments, issues);
  const experiments: Experiment[] = [];
  records.forEach((record, index) => {
    const row = index + 1;
    if (record.cells.length > header.cells.length) {
      issues.push({
        row,
        line: record.line,
        message: `has ${record.cells.length} cells but the header has ${header.cells.length} columns`,
      });
      return;
    }
    const cells = new Map<string, unknown>();
    header.cells.forEach((name, c) => cells.set(name, record.cells[c] ?? ''));
    const experiment = experimentFromCells(cells, columns, { row, line: record.line }, issues);
    if (experiment) experiments.push(experiment);
  });
  if (records.length === 0 && issues.length === 0)
    issues.push({ message: 'the table has a header but no experiments' });
  if (issues.length > 0) fail(source, issues);
  return truth ? { experiments, truth } : { experiments };
}

function parseYamlTable(text: string, source: string | undefined): Omit<ExperimentTable, 'source'> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    fail(source, [{ message: `not valid YAML/JSON: ${(error as Error).message}` }]);
  }
  let rows: unknown = document;
  let truthDocument: unknown;
  if (isRecord(document)) {
    rows = document['experiments'];
    truthDocument = document['truth'];
  }
  if (!Array.isArray(rows)) {
    fail(source, [
      {
        message:
          'expected a list of experiments, or a map with an `experiments` list (and optionally `truth`)',
      },
    ]);
  }
  const issues: CalibrationIssue[] = [];
  const truth = parseTruthMap(truthDocument, issues);
  const columns = new Map<string, Column>();
  const experiments: Experiment[] = [];
  rows.forEach((item: unknown, index) => {
    const row = index + 1;
    if (!isRecord(item)) {
      issues.push({ row, message: 'must be a map of column → value' });
      return;
    }
    const fresh = Object.keys(item).filter((name) => !columns.has(name));
    for (const [name, column] of parseHeader(fresh, issues, undefined, row))
      columns.set(name, column);
    const experiment = experimentFromCells(new Map(Object.entries(item)), columns, { row }, issues);
    if (experiment) experiments.push(experiment);
  });
  if (rows.length === 0) issues.push({ message: 'the table lists no experiments' });
  if (issues.length > 0) fail(source, issues);
  return truth ? { experiments, truth } : { experiments };
}

function parseHeader(
  names: string[],
  issues: CalibrationIssue[],
  line?: number,
  row?: number,
): Map<string, Column> {
  const columns = new Map<string, Column>();
  for (const name of names) {
    const at = {
      ...(row !== undefined ? { row } : {}),
      ...(line !== undefined ? { line } : {}),
      column: name,
    };
    if (name === '') {
      issues.push({ ...at, message: 'a column has no name' });
      continue;
    }
    if (columns.has(name)) {
      issues.push({ ...at, message: 'appears twice in the header' });
      continue;
    }
    const column = parseColumn(name);
    if (!column) issues.push({ ...at, message: `is not a known column; ${COLUMN_HELP}` });
    else columns.set(name, column);
  }
  return columns;
}

function experimentFromCells(
  cells: Map<string, unknown>,
  columns: Map<string, Column>,
  where: { row: number; line?: number },
  issues: CalibrationIssue[],
): Experiment | undefined {
  const before = issues.length;
  const conditions: StepConditions = {};
  const measurements: Experiment['measurements'] = {};
  let id: string | undefined;
  let step: string | undefined;
  let choices: Record<string, string> | undefined;
  for (const [name, raw] of cells) {
    const column = columns.get(name);
    if (!column || isEmpty(raw)) continue;
    const issue = (message: string) => issues.push({ ...where, column: name, message });
    if (
      column.kind === 'id' ||
      column.kind === 'note' ||
      column.kind === 'step' ||
      column.kind === 'choice'
    ) {
      const text = typeof raw === 'string' ? raw.trim() : String(raw);
      if (column.kind === 'id') id = text;
      if (column.kind === 'step') step = text;
      if (column.kind === 'choice') (choices ??= {})[column.choice] = text;
      continue;
    }
    const value = toNumber(raw);
    if (value === undefined) {
      issue(`${JSON.stringify(raw)} is not a number`);
      continue;
    }
    switch (column.kind) {
      case 'flow':
        if (value < 0) issue(`flow ${value} mL/min is negative`);
        else (conditions.flows ??= {})[column.pump] = value;
        break;
      case 'jacketTemperature':
        if (value <= -273.15) issue(`${value} °C is below absolute zero`);
        else conditions.jacketTemperature = value;
        break;
      case 'backPressure':
        conditions.backPressure = value;
        break;
      case 'feedTemperature':
        if (value <= -273.15) issue(`${value} °C is below absolute zero`);
        else (conditions.feedTemperatures ??= {})[column.feed] = value;
        break;
      case 'catalystActivity':
        if (value < 0 || value > 1) issue(`catalyst activity ${value} is outside 0..1`);
        else conditions.catalystActivity = value;
        break;
      case 'tank':
        if (value < 0) issue(`concentration ${value} mol/L is negative`);
        else ((conditions.tankCompositions ??= {})[column.tank] ??= {})[column.species] = value;
        break;
      case 'measured':
        // Negative readings are kept: noise around zero is real, and clipping would bias the fit.
        measurements[column.quantity] = value;
        break;
    }
  }
  if (issues.length > before) return undefined;
  if (Object.keys(measurements).length === 0) {
    issues.push({
      ...where,
      message: 'has no measured value: fill at least one c:<species> or conversion cell',
    });
    return undefined;
  }
  return {
    id: id ?? `row ${where.row}`,
    row: where.row,
    ...(where.line !== undefined ? { line: where.line } : {}),
    ...(step !== undefined ? { step } : {}),
    conditions,
    ...(choices !== undefined ? { choices } : {}),
    measurements,
  };
}

const TRUTH_PREFIX = /^truth\s*:/i;

function parseTruthComments(
  comments: { line: number; text: string }[],
  issues: CalibrationIssue[],
): Record<string, number> | undefined {
  let truth: Record<string, number> | undefined;
  for (const comment of comments) {
    if (!TRUTH_PREFIX.test(comment.text)) continue;
    for (const entry of comment.text.replace(TRUTH_PREFIX, '').split(',')) {
      if (entry.trim() === '') continue;
      const [path, raw, ...extra] = entry.split('=').map((s) => s.trim());
      const value = raw === undefined || extra.length > 0 ? undefined : toNumber(raw);
      if (!path || value === undefined)
        issues.push({
          line: comment.line,
          message: `truth entry "${entry.trim()}" must be <parameter>=<number>`,
        });
      else (truth ??= {})[path] = value;
    }
  }
  return truth;
}

function parseTruthMap(
  document: unknown,
  issues: CalibrationIssue[],
): Record<string, number> | undefined {
  if (document === undefined || document === null) return undefined;
  if (!isRecord(document)) {
    issues.push({ column: 'truth', message: 'must be a map of parameter path → number' });
    return undefined;
  }
  const truth: Record<string, number> = {};
  for (const [path, raw] of Object.entries(document)) {
    const value = toNumber(raw);
    if (value === undefined)
      issues.push({ column: `truth.${path}`, message: `${JSON.stringify(raw)} is not a number` });
    else truth[path] = value;
  }
  return truth;
}

export interface FormatTableOptions {
  /** Significant digits of measured values (an analyser reports no more). @default 6 */
  digits?: number;
  /** Lines written as `# comments` at the top (CSV and YAML; JSON has no comments). */
  comments?: string[];
}

/** Writes a table as CSV, YAML or JSON, with the columns described above. Round-trips through parseExperimentTable. */
export function formatExperimentTable(
  table: ExperimentTable,
  format: ExperimentTableFormat,
  options: FormatTableOptions = {},
): string {
  const digits = options.digits ?? 6;
  const rows = table.experiments.map((e) => experimentCells(e, digits));
  const comments = (options.comments ?? [])
    .flatMap((c) => c.split('\n'))
    .map((c) => `# ${c}`.trimEnd());
  if (format !== 'csv') {
    const document = {
      ...(table.truth ? { truth: table.truth } : {}),
      experiments: rows.map((cells) => Object.fromEntries(cells)),
    };
    if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
    return [...comments, stringifyYaml(document)].join('\n');
  }
  const header: string[] = [];
  for (const cells of rows)
    for (const [name] of cells) if (!header.includes(name)) header.push(name);
  const lines: string[] = [...comments];
  if (table.truth) {
    lines.push(
      `# truth: ${Object.entries(table.truth)
        .map(([path, value]) => `${path}=${value}`)
        .join(', ')}`,
    );
  }
  lines.push(formatCsvRow(header));
  for (const cells of rows) {
    const byName = new Map(cells);
    lines.push(
      formatCsvRow(
        header.map((name) => {
          const v = byName.get(name);
          return v === undefined ? '' : String(v);
        }),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

function experimentCells(experiment: Experiment, digits: number): [string, string | number][] {
  const c = experiment.conditions;
  const cells: [string, string | number][] = [['id', experiment.id]];
  if (experiment.step !== undefined) cells.push(['step', experiment.step]);
  for (const [choice, option] of Object.entries(experiment.choices ?? {}))
    cells.push([`choice:${choice}`, option]);
  for (const [pump, flow] of Object.entries(c.flows ?? {})) cells.push([`flow:${pump}`, flow]);
  if (c.jacketTemperature !== undefined) cells.push(['jacketTemperature', c.jacketTemperature]);
  if (c.backPressure !== undefined) cells.push(['backPressure', c.backPressure]);
  if (c.catalystActivity !== undefined) cells.push(['catalystActivity', c.catalystActivity]);
  for (const [feed, celsius] of Object.entries(c.feedTemperatures ?? {}))
    cells.push([`feedTemperature:${feed}`, celsius]);
  for (const [tank, composition] of Object.entries(c.tankCompositions ?? {})) {
    for (const [species, value] of Object.entries(composition))
      cells.push([`tank:${tank}:${species}`, value]);
  }
  for (const [quantity, value] of Object.entries(experiment.measurements)) {
    if (value !== undefined) cells.push([quantity, Number(value.toPrecision(digits))]);
  }
  return cells;
}

function isEmpty(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number from a cell, or undefined. Strings must look like a decimal number (no "1,5", no "0x1"). */
function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string' || !NUMBER.test(raw.trim())) return undefined;
  const value = Number(raw.trim());
  return Number.isFinite(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
