/**
 * PromQL expressions as a small syntax tree, parsed by Prometheus' own grammar for Lezer
 * (`@prometheus-io/lezer-promql`, the grammar behind the Prometheus UI's editor). Only what the
 * dashboard checker needs: selectors and their matchers, functions, aggregations with their
 * grouping, binary operators with their vector matching.
 */
import type { SyntaxNode } from '@lezer/common';
import type { LRParser } from '@lezer/lr';

// The package has a CommonJS build (dist/index.cjs), but its only typings (dist/index.d.ts, in a
// "type": "module" package) read as an ES module, which node16 resolution will not let this
// CommonJS file import. Those typings declare just `parser: LRParser`.
const { parser } = require('@prometheus-io/lezer-promql') as { parser: LRParser };

export interface Matcher {
  label: string;
  op: string;
  value: string;
}

export interface Grouping {
  without: boolean;
  labels: string[];
}

export interface VectorMatching {
  on: boolean;
  labels: string[];
  group?: { side: 'left' | 'right'; labels: string[] };
}

export type PromNode =
  | { kind: 'number' }
  | { kind: 'string'; value: string }
  | { kind: 'selector'; name?: string; matchers: Matcher[]; pos: number }
  | { kind: 'range'; expr: PromNode }
  | { kind: 'call'; func: string; args: PromNode[] }
  | { kind: 'aggregate'; op: string; grouping?: Grouping; param?: PromNode; expr: PromNode }
  | {
      kind: 'binary';
      op: string;
      bool: boolean;
      matching?: VectorMatching;
      lhs: PromNode;
      rhs: PromNode;
    }
  | { kind: 'unary'; expr: PromNode }
  | { kind: 'paren'; expr: PromNode };

export class PromQLSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(`${message} at offset ${pos}`);
  }
}

/** Aggregations whose first argument is a parameter (`topk(3, x)`); the grammar allows any count. */
const PARAM_AGGREGATIONS = new Set([
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'limitk',
  'limit_ratio',
]);

/** Parses a PromQL expression (no Grafana variables left in it). */
export function parsePromQL(source: string): PromNode {
  const tree = parser.parse(source);
  // Lezer recovers from errors by inserting error nodes (⚠) instead of throwing.
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) {
        const near = source.slice(n.from, n.from + 20) || 'end';
        throw new PromQLSyntaxError(`syntax error near "${near}"`, n.from);
      }
    },
  });
  const [expr] = exprChildren(tree.topNode);
  if (!expr) throw new PromQLSyntaxError('empty expression', 0);
  return new TreeReader(source).expr(expr);
}

/** The children in the grammar's `Expr` group. */
function exprChildren(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.type.is('Expr')) children.push(c);
  return children;
}

class TreeReader {
  constructor(private readonly source: string) {}

  private text(node: SyntaxNode): string {
    return this.source.slice(node.from, node.to);
  }

  expr(node: SyntaxNode): PromNode {
    const inner = () => this.expr(exprChildren(node)[0]!);
    switch (node.name) {
      case 'NumberDurationLiteral':
        return { kind: 'number' };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(node) };
      case 'VectorSelector':
        return this.selector(node);
      case 'MatrixSelector':
      case 'SubqueryExpr':
        return { kind: 'range', expr: inner() };
      // Modifiers that move or pin the evaluation time keep the labels.
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        return inner();
      case 'ParenExpr':
        return { kind: 'paren', expr: inner() };
      case 'UnaryExpr':
        return { kind: 'unary', expr: inner() };
      case 'FunctionCall':
        return {
          kind: 'call',
          func: this.text(node.getChild('FunctionIdentifier')!),
          args: this.args(node),
        };
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'BinaryExpr':
        return this.binary(node);
      default:
        throw new PromQLSyntaxError(`unsupported ${node.name}`, node.from);
    }
  }

  private args(node: SyntaxNode): PromNode[] {
    return exprChildren(node.getChild('FunctionCallBody')!).map((a) => this.expr(a));
  }

  private aggregate(node: SyntaxNode): PromNode {
    const op = this.text(node.getChild('AggregateOp')!).toLowerCase();
    const args = this.args(node);
    const expected = PARAM_AGGREGATIONS.has(op) ? 2 : 1;
    if (args.length !== expected)
      throw new PromQLSyntaxError(
        `${op} takes ${expected} argument(s), not ${args.length}`,
        node.from,
      );
    const modifier = node.getChild('AggregateModifier');
    return {
      kind: 'aggregate',
      op,
      ...(modifier
        ? {
            grouping: {
              without: modifier.getChild('Without') !== null,
              labels: this.labels(modifier.getChild('GroupingLabels')),
            },
          }
        : {}),
      ...(expected === 2 ? { param: args[0]! } : {}),
      expr: args[expected - 1]!,
    };
  }

  private binary(node: SyntaxNode): PromNode {
    const [lhs, rhs] = exprChildren(node);
    // The operator is the token after the left operand: `+`, `==`, `and`, `atan2` …
    const op = this.text(lhs!.nextSibling!).toLowerCase();
    const clause = node.getChild('MatchingModifierClause');
    let matching: VectorMatching | undefined;
    if (clause) {
      const [labels, groupLabels] = clause.getChildren('GroupingLabels');
      matching = { on: clause.getChild('On') !== null, labels: this.labels(labels) };
      const side = clause.getChild('GroupLeft')
        ? 'left'
        : clause.getChild('GroupRight')
          ? 'right'
          : undefined;
      if (side) matching.group = { side, labels: this.labels(groupLabels) };
    }
    return {
      kind: 'binary',
      op,
      bool: node.getChild('BoolModifier') !== null,
      ...(matching ? { matching } : {}),
      lhs: this.expr(lhs!),
      rhs: this.expr(rhs!),
    };
  }

  private selector(node: SyntaxNode): PromNode {
    const identifier = node.getChild('Identifier');
    let name = identifier ? this.text(identifier) : undefined;
    const matchers: Matcher[] = [];
    const list = node.getChild('LabelMatchers');
    for (let m = list?.firstChild; m; m = m.nextSibling) {
      if (m.name === 'QuotedLabelName') {
        // `{"metric.name"}`: Prometheus 3's quoted metric name.
        name = this.string(m.firstChild!);
      } else if (m.name === 'UnquotedLabelMatcher' || m.name === 'QuotedLabelMatcher') {
        const label = m.getChild('LabelName') ?? m.getChild('QuotedLabelName')?.firstChild;
        matchers.push({
          label: label!.name === 'StringLiteral' ? this.string(label!) : this.text(label!),
          op: this.text(m.getChild('MatchOp')!),
          value: this.string(m.getChild('StringLiteral')!),
        });
      }
    }
    return { kind: 'selector', ...(name !== undefined ? { name } : {}), matchers, pos: node.from };
  }

  private labels(node: SyntaxNode | null | undefined): string[] {
    const labels: string[] = [];
    for (let l = node?.firstChild; l; l = l.nextSibling) {
      if (l.name === 'LabelName') labels.push(this.text(l));
      else if (l.name === 'QuotedLabelName') labels.push(this.string(l.firstChild!));
    }
    return labels;
  }

  /** A string literal's value; the grammar lets the closing quote be missing, PromQL does not. */
  private string(node: SyntaxNode): string {
    const text = this.text(node);
    const quote = text[0];
    if (quote === '`') {
      if (text.length < 2 || !text.endsWith('`'))
        throw new PromQLSyntaxError('unterminated string', node.from);
      return text.slice(1, -1);
    }
    if (!/^(["'])(?:[^\\\n]|\\.)*?\1$/.test(text))
      throw new PromQLSyntaxError('unterminated string', node.from);
    return text.slice(1, -1).replace(/\\(.)/g, '$1');
  }
}
