import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '../..');

/**
 * The schemathesis binary: PIPAC_SCHEMATHESIS_BIN (the test command sets it), else the one
 * scripts/schemathesis/schemathesis.sh installs (a pinned version in .cache/, made on first use).
 */
export function schemathesisBin(): string {
  const given = process.env['PIPAC_SCHEMATHESIS_BIN'];
  if (given) return given;
  return execFileSync('bash', [join(REPO, 'scripts/schemathesis/schemathesis.sh'), 'ensure'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** What one fuzz run did. */
export interface FuzzReport {
  /** Operations the document lists (method + path). */
  operations: number;
  /** HTTP requests schemathesis made. */
  requests: number;
  /** Responses per status code. */
  statuses: Record<number, number>;
  /** Distinct failures: operation, check code, and what was wrong. */
  failures: string[];
  seconds: number;
  exitCode: number | null;
  /** The end of schemathesis's own output (its summary and any failure it printed). */
  outputTail: string;
}

export interface FuzzRun {
  /** The served document, e.g. http://127.0.0.1:4000/api/v1/openapi.json */
  schemaUrl: string;
  headers: Record<string, string>;
  checks: string[];
  maxExamples: number;
  seed: number;
  /** Values a path parameter draws from half the time (ids of objects that exist), per parameter. */
  dictionaries?: Record<string, string[]>;
  /** Per path regex, parameter → dictionary, where one name means different things (`id`). */
  operationDictionaries?: { pathRegex: string; parameter: string; dictionary: string }[];
  phases?: string[];
}

/**
 * Runs `schemathesis run` against a served OpenAPI document, asynchronously (the API under test
 * may live in this process), with one worker and a fixed seed, and reads its NDJSON report.
 * Its caches (`.hypothesis`, `.schemathesis`) go to a temporary folder removed afterwards.
 */
export async function runSchemathesis(run: FuzzRun): Promise<FuzzReport> {
  const dir = mkdtempSync(join(tmpdir(), 'pipac-schemathesis-'));
  try {
    writeFileSync(join(dir, 'schemathesis.toml'), config(run));
    const args = [
      '--config-file',
      join(dir, 'schemathesis.toml'),
      'run',
      run.schemaUrl,
      ...Object.entries(run.headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
      '--checks',
      run.checks.join(','),
      '--max-examples',
      String(run.maxExamples),
      '--seed',
      String(run.seed),
      '--workers',
      '1',
      '--generation-database',
      'none',
      '--no-color',
      '--report',
      'ndjson',
      '--report-dir',
      join(dir, 'report'),
      ...(run.phases ? ['--phases', run.phases.join(',')] : []),
    ];
    const started = performance.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>(
      (resolve, reject) => {
        const child = spawn(schemathesisBin(), args, {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const reports = readdirSync(join(dir, 'report')).filter((f) => f.endsWith('.ndjson'));
    if (reports.length !== 1) {
      throw new Error(`schemathesis wrote no report (exit ${code}):\n${output.slice(-4000)}`);
    }
    const events = readFileSync(join(dir, 'report', reports[0]!), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const schema = (await (await fetch(run.schemaUrl)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    return {
      operations: Object.values(schema.paths).reduce((n, item) => n + Object.keys(item).length, 0),
      ...tally(events),
      seconds,
      exitCode: code,
      outputTail: output.slice(-6000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per run, for the test output. */
export function describeReport(label: string, report: FuzzReport): string {
  const statuses = Object.entries(report.statuses)
    .map(([status, n]) => `${status}×${n}`)
    .join(' ');
  return (
    `schemathesis ${label}: ${report.operations} operations, ${report.requests} requests in ` +
    `${report.seconds.toFixed(1)} s, ${report.failures.length} failures (${statuses})` +
    report.failures.map((f) => `\n  - ${f}`).join('')
  );
}

interface Recorder {
  cases: Record<string, { value: { method: string; path: string } }>;
  checks?: Record<string, { name: string; status: string; failure_info?: FailureInfo }[]>;
  interactions?: Record<string, { response?: { status_code: number } | null }>;
}
interface FailureInfo {
  failure: { code?: string; operation?: string; title?: string; message?: string };
}

function tally(
  events: Record<string, unknown>[],
): Pick<FuzzReport, 'requests' | 'statuses' | 'failures'> {
  let requests = 0;
  const statuses: Record<number, number> = {};
  const failures = new Set<string>();
  for (const event of events) {
    const finished = event['ScenarioFinished'] as { recorder: Recorder } | undefined;
    if (!finished) continue;
    for (const interaction of Object.values(finished.recorder.interactions ?? {})) {
      requests++;
      const status = interaction.response?.status_code;
      if (status !== undefined) statuses[status] = (statuses[status] ?? 0) + 1;
    }
    for (const checks of Object.values(finished.recorder.checks ?? {})) {
      for (const check of checks) {
        if (check.status !== 'failure') continue;
        const f = check.failure_info?.failure ?? {};
        failures.add(
          `${f.operation ?? '?'}: ${check.name} (${f.code ?? '?'}) ${f.title ?? ''}: ${f.message ?? ''}`.trim(),
        );
      }
    }
  }
  return { requests, statuses, failures: [...failures].sort() };
}

function config(run: FuzzRun): string {
  const lines: string[] = [];
  const dictionaries = run.dictionaries ?? {};
  if (Object.keys(dictionaries).length > 0) {
    lines.push('[dictionaries]');
    for (const [name, values] of Object.entries(dictionaries)) {
      lines.push(`${JSON.stringify(name)} = { values = ${JSON.stringify(values)} }`);
    }
    lines.push('', '[parameters]');
    for (const name of Object.keys(dictionaries)) {
      if ((run.operationDictionaries ?? []).some((o) => o.dictionary === name)) continue;
      lines.push(
        `${JSON.stringify(`path.${name}`)} = { dictionary = ${JSON.stringify(name)}, probability = 0.5 }`,
      );
    }
  }
  for (const o of run.operationDictionaries ?? []) {
    lines.push(
      '',
      '[[operations]]',
      `include-path-regex = ${JSON.stringify(o.pathRegex)}`,
      `parameters = { ${JSON.stringify(`path.${o.parameter}`)} = { dictionary = ${JSON.stringify(o.dictionary)}, probability = 0.5 } }`,
    );
  }
  return lines.join('\n') + '\n';
}
