import {
  isMap,
  isScalar,
  isSeq,
  parse,
  parseDocument,
  stringify,
  type Document,
  type YAMLMap,
} from 'yaml';
import type { Provenance, Recipe } from '@pipac/recipe';
import type { FittedParameter } from './calibration.types';

/** Significant digits written into the calibrated recipe: far below any confidence interval's width. */
const RECIPE_DIGITS = 6;

/** `0.00651`, `55.2`, `1.23e-7`: a number for people, `digits` significant. */
export function formatSignificant(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(digits)));
  return value.toExponential(digits - 1);
}

/**
 * Significant digits that keep a value and its interval bounds apart: two beyond the first
 * digit the interval's half-width touches (0.013053 [0.012995, 0.013112], not 0.01305 [0.013, 0.01311]).
 */
export function intervalDigits(value: number, interval: readonly [number, number]): number {
  const halfWidth = (interval[1] - interval[0]) / 2;
  if (!(halfWidth > 0) || value === 0) return 6;
  return Math.min(10, Math.max(3, Math.ceil(Math.log10(Math.abs(value) / halfWidth)) + 2));
}

/** `k = 0.0065123 1/s at 25 °C, 95% CI [0.0064012, 0.0066251] (interval from ln k)`. */
export function describeFittedParameter(
  parameter: FittedParameter,
  confidenceLevel: number,
): string {
  const name = parameter.kind === 'order' ? `orders.${parameter.species ?? ''}` : parameter.kind;
  const unit = parameter.unit === '-' ? '' : ` ${parameter.unit}`;
  const [lower, upper] = parameter.confidenceInterval;
  const digits = intervalDigits(parameter.value, parameter.confidenceInterval);
  const level = `${formatSignificant(confidenceLevel * 100, 3)}%`;
  const log = parameter.intervalScale === 'log' ? ' (interval from ln k)' : '';
  const f = (v: number) => formatSignificant(v, digits);
  return `${name} = ${f(parameter.value)}${unit}, ${level} CI [${f(lower)}, ${f(upper)}]${log}`;
}

export interface ProvenanceContext {
  /** The experiment table's file name. */
  source: string;
  experiments: number;
  measurements: number;
  confidenceLevel: number;
}

/**
 * The recipe with each calibrated reaction's provenance rewritten: the source names the table,
 * the fitted values and their intervals (no date, so the output is reproducible), and keeps what
 * the provenance said before. `assumed`/`reason` are folded into that text rather than kept:
 * the fitted numbers are no longer assumptions, and a reaction has one provenance for all of its numbers.
 */
export function withCalibrationProvenance(
  recipe: Recipe,
  parameters: readonly FittedParameter[],
  context: ProvenanceContext,
): Recipe {
  const byReaction = new Map<string, FittedParameter[]>();
  for (const p of parameters)
    byReaction.set(p.reaction, [...(byReaction.get(p.reaction) ?? []), p]);
  return {
    ...recipe,
    reactions: recipe.reactions.map((reaction) => {
      const fitted = byReaction.get(reaction.id);
      if (!fitted) return reaction;
      const before = previousProvenance(reaction.provenance);
      const provenance: Provenance = {
        source:
          `calibrated by pipac calibrate from ${context.source} (${context.experiments} experiments, ${context.measurements} measurements): ` +
          fitted.map((p) => describeFittedParameter(p, context.confidenceLevel)).join('; ') +
          (before ? `; before calibration: ${before}` : ''),
      };
      return { ...reaction, provenance };
    }),
  };
}

function previousProvenance(provenance: Provenance | undefined): string {
  if (!provenance) return '';
  const parts = [
    ...(provenance.source ? [provenance.source] : []),
    ...(provenance.assumed ? [`assumed${provenance.reason ? ` (${provenance.reason})` : ''}`] : []),
    ...(!provenance.assumed && provenance.reason ? [provenance.reason] : []),
  ];
  return parts.join(', ');
}

/**
 * The calibrated recipe as YAML. Given the original file's text, the fitted values and the
 * provenance of the calibrated reactions are edited in place, character ranges only, so the
 * engineer's comments and layout survive and a diff shows exactly what calibration changed.
 * Where an in-place edit is not possible (a flow-style reaction without a provenance, an order
 * the rate law did not list), the document is re-rendered by the yaml library, which keeps
 * comments but normalises spacing. Without the original text, the recipe is written plainly.
 */
export function calibratedRecipeYaml(
  calibrated: Recipe,
  parameters: readonly FittedParameter[],
  originalText?: string,
): string {
  const rounded = roundFitted(calibrated, parameters);
  if (originalText === undefined) return stringify(rounded);
  const edited = editInPlace(originalText, rounded, parameters);
  if (edited !== undefined && sameCalibration(edited, rounded, parameters)) return edited;
  return rerender(originalText, rounded, parameters) ?? stringify(rounded);
}

interface TextEdit {
  start: number;
  end: number;
  text: string;
}

function valuePath(p: FittedParameter): string[] {
  if (p.kind === 'k') return ['rateLaw', 'k', 'value'];
  if (p.kind === 'activationEnergy') return ['rateLaw', 'activationEnergy'];
  return ['rateLaw', 'orders', p.species ?? ''];
}

function reactionNode(document: Document, id: string): YAMLMap | undefined {
  const reactions = document.get('reactions');
  if (!isSeq(reactions)) return undefined;
  const item = reactions.items.find((node) => isMap(node) && node.get('id') === id);
  return isMap(item) ? item : undefined;
}

function editInPlace(
  text: string,
  rounded: Recipe,
  parameters: readonly FittedParameter[],
): string | undefined {
  const document = parseDocument(text);
  if (document.errors.length > 0) return undefined;
  const edits: TextEdit[] = [];
  for (const p of parameters) {
    const node = reactionNode(document, p.reaction)?.getIn(valuePath(p), true);
    if (!isScalar(node) || !node.range) return undefined;
    edits.push({ start: node.range[0], end: node.range[1], text: String(getFitted(rounded, p)) });
  }
  for (const reaction of rounded.reactions) {
    if (!reaction.provenance?.source || !parameters.some((p) => p.reaction === reaction.id))
      continue;
    const item = reactionNode(document, reaction.id);
    if (!item?.range) return undefined;
    // A JSON string is a valid YAML double-quoted scalar.
    const source = JSON.stringify(reaction.provenance.source);
    const node = item.get('provenance', true);
    if (isMap(node) && node.range) {
      const block = !node.flow;
      const end = block && text[node.range[1] - 1] === '\n' ? node.range[1] - 1 : node.range[1];
      edits.push({
        start: node.range[0],
        end,
        text: block ? `source: ${source}` : `{ source: ${source} }`,
      });
    } else if (node === undefined && !item.flow) {
      const firstKey = item.items[0]?.key;
      if (!isScalar(firstKey) || !firstKey.range) return undefined;
      const indent = firstKey.range[0] - (text.lastIndexOf('\n', firstKey.range[0] - 1) + 1);
      const at = item.range[1];
      const newline = text[at - 1] === '\n' ? '' : '\n';
      edits.push({
        start: at,
        end: at,
        text: `${newline}${' '.repeat(indent)}provenance: { source: ${source} }\n`,
      });
    } else return undefined;
  }
  let edited = text;
  for (const edit of edits.sort((a, b) => b.start - a.start))
    edited = edited.slice(0, edit.start) + edit.text + edited.slice(edit.end);
  return edited;
}

/** Guards the in-place edit: the result must parse to the calibrated values and provenance. */
function sameCalibration(
  text: string,
  rounded: Recipe,
  parameters: readonly FittedParameter[],
): boolean {
  let reparsed: Recipe;
  try {
    reparsed = parse(text) as Recipe;
  } catch {
    return false;
  }
  const provenanceOf = (recipe: Recipe, id: string) =>
    recipe.reactions.find((r) => r.id === id)?.provenance?.source;
  return parameters.every(
    (p) =>
      getFitted(reparsed, p) === getFitted(rounded, p) &&
      provenanceOf(reparsed, p.reaction) === provenanceOf(rounded, p.reaction),
  );
}

function rerender(
  text: string,
  rounded: Recipe,
  parameters: readonly FittedParameter[],
): string | undefined {
  const document = parseDocument(text);
  const reactions = document.get('reactions');
  if (!isSeq(reactions)) return undefined;
  for (const p of parameters) {
    const index = reactions.items.findIndex((item) => isMap(item) && item.get('id') === p.reaction);
    if (index < 0) return undefined;
    document.setIn(['reactions', index, ...valuePath(p)], getFitted(rounded, p));
  }
  for (const reaction of rounded.reactions) {
    if (!reaction.provenance || !parameters.some((p) => p.reaction === reaction.id)) continue;
    const index = reactions.items.findIndex(
      (item) => isMap(item) && item.get('id') === reaction.id,
    );
    document.setIn(['reactions', index, 'provenance'], document.createNode(reaction.provenance));
  }
  return document.toString({ lineWidth: 0 });
}

function getFitted(recipe: Recipe, p: FittedParameter): number | undefined {
  const reaction = recipe.reactions.find((r) => r.id === p.reaction);
  if (!reaction) return undefined;
  if (p.kind === 'k') return reaction.rateLaw.k.value;
  if (p.kind === 'activationEnergy') return reaction.rateLaw.activationEnergy;
  return reaction.rateLaw.orders[p.species ?? ''];
}

/** The calibrated recipe with the fitted values cut to RECIPE_DIGITS significant digits. */
function roundFitted(recipe: Recipe, parameters: readonly FittedParameter[]): Recipe {
  const round = (value: number) => Number(value.toPrecision(RECIPE_DIGITS));
  return {
    ...recipe,
    reactions: recipe.reactions.map((reaction) => {
      const fitted = parameters.filter((p) => p.reaction === reaction.id);
      if (fitted.length === 0) return reaction;
      const rateLaw = {
        ...reaction.rateLaw,
        k: { ...reaction.rateLaw.k },
        orders: { ...reaction.rateLaw.orders },
      };
      for (const p of fitted) {
        if (p.kind === 'k') rateLaw.k.value = round(p.value);
        else if (p.kind === 'activationEnergy') rateLaw.activationEnergy = round(p.value);
        else rateLaw.orders[p.species ?? ''] = round(p.value);
      }
      return { ...reaction, rateLaw };
    }),
  };
}
