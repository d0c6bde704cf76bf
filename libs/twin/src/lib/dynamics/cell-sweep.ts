import { index, literal, rateSource } from '../kinetics/rate-kernel';
import type { StepModel } from '@pipac/recipe';
import { compileGenerated } from '../kinetics/generated-code';

const sharedSweeps = new Map<string, CellSweep>();

/** Results of a sweep, by position in `CellSweep`'s `stats` argument. */
export const SWEEP = {
  frequency: 0,
  maxTemperature: 1,
  mtsr: 2,
  jacketDifference: 3,
  floors: 4,
} as const;

/**
 * One substep of a step's reactor through all its cells, in flow order:
 *   c ← (c + h·Σν r(c, T) + h·D·c_up) / (1 + h·D),
 *   T ← (T + h·D·T_up + h·q/(ρc_p) + h·X·T_j) / (1 + h·D + h·X),
 * reading the cell upstream's new values (cell 0 reads `upstream`), so the implicit
 * transport is solved exactly by the sweep. Writes into `stats` (see SWEEP): the fastest
 * consumption frequency, hottest cell, worst MTSR, Σ(T_j − T) and the count of negative
 * concentrations floored at zero.
 */
export type CellSweep = (
  c: Float64Array,
  temperature: Float64Array,
  upstream: Float64Array,
  upstreamTemperature: number,
  h: number,
  transport: number,
  denominator: number,
  heatScale: number,
  exchangeIn: number,
  temperatureDenominator: number,
  jacketTemperature: number,
  multiplier: number,
  stats: Float64Array,
) => void;

/**
 * Concentrations below this (mol/L; under one molecule per 10⁶ L) are set to zero. Without
 * the floor, species washing out decay geometrically into subnormal floats, which x86
 * processes tens of times slower: a week-long run slowed sevenfold before this was added.
 */
export const NEGLIGIBLE = 1e-30;

/**
 * Generates the sweep for one step as straight-line JavaScript per cell: the rate law
 * inlined (see rate-kernel.ts) and one update per species that can be present.
 *
 * Why generated: the sweep is the twin's inner loop, run once per cell per substep. A
 * shared loop calling the step's rate kernel paid for the call and for indirect species
 * indices; generated per step, V8 compiles it with every index a constant (measured in
 * the benchmark note). Only numbers and integer indices reach the source.
 */
export function compileCellSweep(
  step: StepModel,
  stride: number,
  cells: number,
  active: Int32Array,
  adiabaticPerKey: number,
): CellSweep & { source: string } {
  const src = rateSource(step.reactions);
  const network = new Set(src.species);
  const key = step.keyIndex;
  const lines: string[] = [];
  lines.push(`let ${src.variables.map((k) => `${k} = 0.0`).join(', ')};`);
  lines.push('let frequency = 0.0, maxT = 0.0, mtsr = 0.0, jacketDifference = 0.0, floors = 0;');
  lines.push('let upT = upstreamTemperature;');
  lines.push(
    `for (let cell = 0, off = 0; cell < ${index(cells)}; cell++, off += ${index(stride)}) {`,
  );
  lines.push('  const T = temperature[cell];', '  const inv = 1 / T;');
  lines.push(...src.constants.map((line) => `  ${line}`));
  lines.push(...src.reads((i) => `c[off + ${index(i)}]`).map((line) => `  ${line}`));
  lines.push(...src.rates.map((line) => `  ${line}`));
  lines.push(`  const heat = ${src.heat};`);
  for (const [i, expression] of src.consumption) {
    lines.push(
      `  if (c${index(i)} > 0) { const g = ${expression} / c${index(i)}; if (g > frequency) frequency = g; }`,
    );
  }
  lines.push(
    `  const up = cell === 0 ? upstream : c;`,
    `  const upOff = cell === 0 ? 0 : off - ${index(stride)};`,
  );
  for (const i of active) {
    const current = network.has(i) ? `c${index(i)}` : `c[off + ${index(i)}]`;
    const production = step.reactions.length > 0 ? src.production.get(i) : undefined;
    const reacted = production ? `(${current} + h * ${production})` : current;
    lines.push(
      `  let v${index(i)} = (${reacted} + transport * up[upOff + ${index(i)}]) * denominator;`,
      `  if (v${index(i)} < ${literal(NEGLIGIBLE)}) { if (v${index(i)} < 0) floors++; v${index(i)} = 0.0; }`,
      `  c[off + ${index(i)}] = v${index(i)};`,
    );
  }
  lines.push(
    '  const tNew = (T + transport * upT + heatScale * heat + exchangeIn) * temperatureDenominator;',
    '  temperature[cell] = tNew;',
    '  upT = tNew;',
    '  jacketDifference += jacketTemperature - tNew;',
    '  if (tNew > maxT) maxT = tNew;',
    `  const potential = tNew + ${literal(adiabaticPerKey)} * c[off + ${index(key)}];`,
    '  if (potential > mtsr) mtsr = potential;',
    '}',
    `stats[${SWEEP.frequency}] = frequency; stats[${SWEEP.maxTemperature}] = maxT; stats[${SWEEP.mtsr}] = mtsr;`,
    `stats[${SWEEP.jacketDifference}] = jacketDifference; stats[${SWEEP.floors}] = floors;`,
  );
  const parameters = [
    'c',
    'temperature',
    'upstream',
    'upstreamTemperature',
    'h',
    'transport',
    'denominator',
    'heatScale',
    'exchangeIn',
    'temperatureDenominator',
    'jacketTemperature',
    'mult',
    'stats',
  ];
  const source = `return function cellSweep(${parameters.join(', ')}) {\n${lines.join('\n')}\n};`;
  // The sweep keeps no state of its own, so every unit of one recipe can share it.
  const sweep = sharedSweeps.get(source) ?? compileGenerated<CellSweep>([], source)();
  sharedSweeps.set(source, sweep);
  return Object.assign(sweep, { source });
}
