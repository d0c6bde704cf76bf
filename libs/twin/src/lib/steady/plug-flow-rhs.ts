import { index, literal, rateSource } from '../kinetics/rate-kernel';
import type { Derivative } from '../numerics/ode.types';
import type { StepModel } from '@pipac/recipe';
import { compileGenerated } from '../kinetics/generated-code';

/** Positions in `PlugFlowRhs.parameters`. */
export const PFR = { multiplier: 0, exchange: 1, jacket: 2 } as const;

export interface PlugFlowRhs {
  /**
   * y' = f(τ, y) along the residence time, y = [c_0 … c_{n−1}, T, ∫(T_j − T)dτ]:
   *   dc/dτ = Σν r(c, T),  dT/dτ = Σ(−ΔH) r/(ρc_p) + X·(T_j − T),  d∫/dτ = T_j − T.
   */
  derivative: Derivative;
  /** Set before integrating: rate multiplier, X = UA/(ρc_p V) (1/s), T_j (K). */
  parameters: Float64Array;
  source: string;
}

/**
 * The plug-flow right-hand side of a step as one generated function: the rate law inlined
 * (rate-kernel.ts) and every derivative written directly, so the integrator's hundreds of
 * calls per solution pay for no second call, no zeroing loop and no index tables.
 */
export function compilePlugFlowRhs(step: StepModel, speciesCount: number): PlugFlowRhs {
  const src = rateSource(step.reactions);
  const n = speciesCount;
  const lines: string[] = [
    `const mult = parameters[${PFR.multiplier}];`,
    `const T = s[${index(n)}];`,
    'const inv = 1 / T;',
    `let ${src.variables.map((k) => `${k} = 0.0`).join(', ')};`,
    ...src.constants,
    ...src.reads((i) => `s[${index(i)}]`),
    ...src.rates,
  ];
  for (let i = 0; i < n; i++) lines.push(`ds[${i}] = ${src.production.get(i) ?? '0.0'};`);
  lines.push(
    `const difference = parameters[${PFR.jacket}] - T;`,
    `ds[${index(n)}] = (${src.heat}) * ${literal(1 / step.volumetricHeatCapacity)} + parameters[${PFR.exchange}] * difference;`,
    `ds[${index(n + 1)}] = difference;`,
  );
  const source = `return function plugFlowRhs(t, s, ds) {\n${lines.join('\n')}\n};`;
  const parameters = new Float64Array(3);
  const factory = compileGenerated<Derivative>(['parameters'], source);
  return { derivative: factory(parameters), parameters, source };
}
