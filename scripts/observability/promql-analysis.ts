/**
 * What a PromQL expression uses and what its result carries: the series it names, the labels of
 * each part's result as functions, aggregations and vector matching change them, and every name
 * or label that does not fit the known series.
 */
import { isCounterSeries, knownSeries } from './metric-series';
import { parsePromQL, type PromNode, type VectorMatching } from './promql';

// ─── PromQL: what functions and operators do to labels ──────────────────────────────────────

/** Functions whose result keeps the labels of another argument than the first. */
const LABELS_FROM_ARGUMENT: Readonly<Record<string, number>> = {
  histogram_fraction: 2,
  histogram_quantile: 1,
  quantile_over_time: 1,
};
/** Functions that return a scalar (vector() returns a vector without labels). */
const SCALAR_FUNCTIONS = new Set(['scalar', 'time', 'pi']);
/** absent() and absent_over_time() carry the selector's equality matchers. */
const ABSENT_FUNCTIONS = new Set(['absent', 'absent_over_time']);
/** Functions that only make sense over counters. */
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
/** Aggregations that keep the labels of the series they pick. */
const SELECTING_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);
const COMPARISONS = new Set(['==', '!=', '<=', '<', '>=', '>']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);

// ─── what an expression uses ────────────────────────────────────────────────────────────────

/** The labels a result can carry; `scalar` for numbers and scalar(). */
export type LabelSet = Set<string> | 'scalar';

export interface Analysis {
  problems: string[];
  metrics: Set<string>;
  /** The labels of the expression's result. */
  labels: LabelSet;
}

type NodeOf<K extends PromNode['kind']> = Extract<PromNode, { kind: K }>;

/** Checks names and labels in a parsed expression against the known series. */
export function analyseExpression(
  expr: string,
  series: Map<string, Set<string>> = knownSeries(),
): Analysis {
  let root: PromNode;
  try {
    root = parsePromQL(expr);
  } catch (error) {
    return {
      problems: [`does not parse: ${(error as Error).message}`],
      metrics: new Set<string>(),
      labels: new Set(),
    };
  }
  const analyser = new LabelAnalyser(series);
  const labels = analyser.visit(root);
  return { problems: analyser.problems, metrics: analyser.metrics, labels };
}

/** Walks an expression bottom-up: the labels of each part's result, and what does not fit. */
class LabelAnalyser {
  readonly problems: string[] = [];
  readonly metrics = new Set<string>();

  constructor(private readonly series: Map<string, Set<string>>) {}

  visit(node: PromNode): LabelSet {
    switch (node.kind) {
      case 'number':
      case 'string':
        return 'scalar';
      case 'selector':
        return this.selector(node);
      case 'range':
      case 'unary':
      case 'paren':
        return this.visit(node.expr);
      case 'call':
        return this.call(node);
      case 'aggregate':
        return this.aggregate(node);
      case 'binary':
        return this.binary(node);
    }
  }

  private selector(node: NodeOf<'selector'>): LabelSet {
    if (!node.name) {
      this.problems.push('a selector without a metric name');
      return new Set();
    }
    this.metrics.add(node.name);
    const labels = this.series.get(node.name);
    if (!labels) {
      this.problems.push(`unknown series ${node.name} (not in the metric catalogue)`);
      return new Set();
    }
    for (const m of node.matchers) {
      if (m.label !== '__name__' && !labels.has(m.label)) {
        this.problems.push(`${node.name} has no label "${m.label}" (it has ${describe(labels)})`);
      }
    }
    return new Set(labels);
  }

  private call(node: NodeOf<'call'>): LabelSet {
    const args = node.args.map((arg) => this.visit(arg));
    if (COUNTER_FUNCTIONS.has(node.func)) {
      for (const name of node.args[0] ? selectorsIn(node.args[0]) : []) {
        if (!isCounterSeries(name))
          this.problems.push(`${node.func}() of ${name}, which is not a counter`);
      }
    }
    if (SCALAR_FUNCTIONS.has(node.func)) return 'scalar';
    if (node.func === 'vector') return new Set();
    if (ABSENT_FUNCTIONS.has(node.func)) return absentLabels(node);
    let labels = args[LABELS_FROM_ARGUMENT[node.func] ?? 0] ?? new Set<string>();
    if (node.func === 'histogram_quantile' && labels !== 'scalar') {
      if (!labels.has('le'))
        this.problems.push(
          'histogram_quantile() over series without "le" (keep le in the by clause)',
        );
      labels = new Set([...labels].filter((l) => l !== 'le'));
    }
    if (
      (node.func === 'label_replace' || node.func === 'label_join') &&
      node.args[1]?.kind === 'string'
    ) {
      labels = union(labels, new Set([node.args[1].value]));
    }
    return labels;
  }

  private aggregate(node: NodeOf<'aggregate'>): LabelSet {
    const inner = this.visit(node.expr);
    if (node.param) this.visit(node.param);
    if (!node.grouping) {
      const kept = SELECTING_AGGREGATIONS.has(node.op) ? inner : new Set<string>();
      return node.op === 'count_values' && node.param?.kind === 'string'
        ? new Set([node.param.value])
        : kept;
    }
    const { without, labels: grouped } = node.grouping;
    for (const label of grouped) {
      if (!has(inner, label)) {
        this.problems.push(
          `${node.op} ${without ? 'without' : 'by'} "${label}": the series inside carry ${describe(inner)}`,
        );
      }
    }
    let labels: LabelSet = without
      ? inner === 'scalar'
        ? new Set()
        : new Set([...inner].filter((l) => !grouped.includes(l)))
      : new Set(grouped);
    if (node.op === 'count_values' && node.param?.kind === 'string')
      labels = union(labels, new Set([node.param.value]));
    return labels;
  }

  private binary(node: NodeOf<'binary'>): LabelSet {
    const lhs = this.visit(node.lhs);
    const rhs = this.visit(node.rhs);
    if (lhs === 'scalar' && rhs === 'scalar') return 'scalar';
    if (lhs === 'scalar') return rhs;
    if (rhs === 'scalar') return lhs;
    if (node.matching) this.checkMatching(node.matching, lhs, rhs);
    return binaryLabels(node, lhs, rhs);
  }

  /** The labels of on/ignoring and group_left/group_right must be where they are matched. */
  private checkMatching(matching: VectorMatching, lhs: Set<string>, rhs: Set<string>): void {
    for (const label of matching.labels) {
      // `x or on() vector(0)`: on() may name nothing; a named label must be on both sides,
      // or the sides never match on it.
      if (matching.on && !(has(lhs, label) && has(rhs, label))) {
        this.problems.push(`on (${label}): left ${describe(lhs)}, right ${describe(rhs)}`);
      }
      if (!matching.on && !has(lhs, label) && !has(rhs, label)) {
        this.problems.push(`ignoring (${label}): on neither side`);
      }
    }
    if (matching.group) {
      const other = matching.group.side === 'left' ? rhs : lhs;
      for (const label of matching.group.labels) {
        if (!has(other, label))
          this.problems.push(
            `group_${matching.group.side} (${label}): not on the other side ${describe(other)}`,
          );
      }
    }
  }
}

/** The labels of a binary operation between two vectors. */
function binaryLabels(node: NodeOf<'binary'>, lhs: Set<string>, rhs: Set<string>): LabelSet {
  const matching = node.matching;
  if (SET_OPERATORS.has(node.op)) return node.op === 'or' ? union(lhs, rhs) : lhs;
  if (matching?.group) {
    const kept = matching.group.side === 'left' ? lhs : rhs;
    return union(kept, new Set(matching.group.labels));
  }
  if (COMPARISONS.has(node.op) && !node.bool) return lhs;
  if (matching?.on) return new Set(matching.labels);
  if (matching) return new Set([...lhs].filter((l) => !matching.labels.includes(l)));
  return lhs;
}

/** absent(x{a="1"}) carries the selector's equality matchers as labels. */
function absentLabels(node: NodeOf<'call'>): LabelSet {
  const arg = node.args[0];
  const inner = arg?.kind === 'range' ? arg.expr : arg;
  return new Set(
    inner?.kind === 'selector'
      ? inner.matchers.filter((m) => m.op === '=').map((m) => m.label)
      : [],
  );
}

/** The metric names an expression selects. */
function selectorsIn(node: PromNode): string[] {
  switch (node.kind) {
    case 'selector':
      return node.name ? [node.name] : [];
    case 'range':
    case 'unary':
    case 'paren':
      return selectorsIn(node.expr);
    case 'call':
      return node.args.flatMap(selectorsIn);
    case 'aggregate':
      return selectorsIn(node.expr);
    case 'binary':
      return [...selectorsIn(node.lhs), ...selectorsIn(node.rhs)];
    default:
      return [];
  }
}

function has(set: LabelSet, label: string): boolean {
  return set !== 'scalar' && set.has(label);
}

function union(a: LabelSet, b: LabelSet): LabelSet {
  return a === 'scalar' ? b : b === 'scalar' ? a : new Set([...a, ...b]);
}

function describe(set: LabelSet): string {
  return set === 'scalar' ? 'a scalar' : `{${[...set].sort().join(', ')}}`;
}

/** `{{label}}` placeholders of a legend, or `$labels.label` of an alert template. */
export function templateLabels(text: string, style: 'legend' | 'alert'): string[] {
  const pattern =
    style === 'legend'
      ? /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g
      : /\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}
