import type { ReactionModel } from '@pipac/recipe';
import { compileGenerated } from './generated-code';
import { RateKernelError } from './rate-kernel.error';

/**
 * A step's reaction network compiled to straight-line JavaScript.
 *
 * `apply(c, offset, T, multiplier, out, outOffset, scale)` evaluates every rate at the
 * concentrations c[offset + i] and temperature T (K), adds scale · Σ_j ν_ij·r_j to
 * out[outOffset + i], and leaves in `result`: [0] the heat released Σ(−ΔH_j)·r_j (W/L),
 * [1] the fastest consumption frequency max_i Σ_j max(−ν_ij, 0)·r_j / c_i (1/s), which the
 * dynamic model uses to size its explicit substeps.
 *
 * Why generated code: the steady-state solver calls this a few hundred times per reactor
 * solution, and the dynamic model once per cell per substep. The table-driven StepKinetics
 * (kept as the readable reference; a spec checks both agree) spends most of its time on
 * indirect loads and loop control; unrolled code with the orders, coefficients and indices
 * as literals runs several times faster on V8 (figures in the benchmark note).
 * Only numbers and integer indices from the compiled model reach the generated source,
 * never a string from the recipe, so this is not an injection path (the same technique
 * as ajv's compiled validators).
 */
export interface RateKernel {
  apply(
    c: Float64Array,
    offset: number,
    temperature: number,
    multiplier: number,
    out: Float64Array,
    outOffset: number,
    scale: number,
  ): void;
  readonly result: Float64Array;
  /**
   * Writes the Jacobian of the reaction terms at (c, T) into the row-major matrix J with
   * leading dimension `ld`: J[i·ld + l] = ∂(Σ_j ν_ij r_j)/∂c_l, column `n` (= ld index of T)
   * ∂/∂T, and row `n` the derivatives of the heat release Σ(−ΔH_j) r_j. Only entries of
   * species the network touches are written: zero J first. Where a concentration is at or
   * below zero its column is left at zero (the rate law's clamp), which is why solvers
   * using it must tolerate an approximate Jacobian.
   */
  jacobian(
    c: Float64Array,
    offset: number,
    temperature: number,
    multiplier: number,
    J: Float64Array,
    ld: number,
    n: number,
  ): void;
  /** The generated source, for inspection and tests. */
  readonly source: string;
}

/** Pieces of generated source for a reaction network, shared by the kernels built on it. */
export interface RateSource {
  /**
   * The rate constants the lines below assign, for the caller to declare with `let`: k0…k{m−1}
   * (k0 even without reactions), and kr{j} for each reversible reaction j.
   */
  variables: string[];
  /** Lines assigning the rate constants (`k${j} = …`, `kr${j} = …`) from `inv` = 1/T. */
  constants: string[];
  /** Species the network reads or writes. */
  species: number[];
  /** Lines `const c{i} = <read(i)>; const p{i} = max(c{i}, 0);` for every species. */
  reads(read: (i: number) => string): string[];
  /**
   * Lines `const r{j} = mult * k{j} * …`; for a reversible reaction its forward and reverse
   * rates first, `const rf{j} = …; const rb{j} = …; const r{j} = rf{j} - rb{j};`.
   */
  rates: string[];
  /** Heat release Σ(−ΔH_j)·r_j, an expression. */
  heat: string;
  /** Species → its net production Σ_j ν_ij r_j, an expression. */
  production: Map<number, string>;
  /** Species → its consumption Σ_j max(−ν_ij, 0)·r_j, an expression. */
  consumption: Map<number, string>;
}

/** Formats a number as a JavaScript literal; refuses what is not finite. */
export function literal(x: number): string {
  if (!Number.isFinite(x))
    throw new RateKernelError('CONSTANT_NOT_FINITE', `rate kernel: non-finite constant ${x}`);
  return x.toString().includes('e') || x.toString().includes('.') ? x.toString() : `${x}.0`;
}

/** Formats a species index; refuses what is not a non-negative integer. */
export function index(x: number): string {
  if (!Number.isInteger(x) || x < 0)
    throw new RateKernelError('INDEX_INVALID', `rate kernel: bad index ${x}`);
  return String(x);
}

/** Π max(c_i, 0)^order_i over the given species, as factors of a product expression. */
function powerFactors(species: Int32Array, orders: Float64Array): string[] {
  const factors: string[] = [];
  species.forEach((i, p) => {
    const order = orders[p]!;
    const x = `p${index(i)}`;
    if (order === 1) factors.push(x);
    else if (order === 2) factors.push(`${x} * ${x}`);
    else if (order === 3) factors.push(`${x} * ${x} * ${x}`);
    else if (order === 0.5) factors.push(`Math.sqrt(${x})`);
    else if (order === 1.5) factors.push(`${x} * Math.sqrt(${x})`);
    else if (order === 2.5) factors.push(`${x} * ${x} * Math.sqrt(${x})`);
    // exp(n·ln x) is about twice as fast as Math.pow for a fractional n on V8.
    else factors.push(`(${x} > 0 ? Math.exp(${literal(order)} * Math.log(${x})) : 0.0)`);
  });
  return factors;
}

/** `den{j}` = 1 + Σ K_s·c_s and `inh{j}` = den^−exponent, for reaction j's adsorption. */
function adsorptionLines(adsorption: NonNullable<ReactionModel['adsorption']>, j: number): string {
  const terms = Array.from(adsorption.species, (i, n) => `ka${j}_${n} * p${index(i)}`);
  const m = adsorption.exponent;
  const inverse =
    m === 1
      ? `1 / den${j}`
      : m === 2
        ? `1 / (den${j} * den${j})`
        : `Math.exp(-${literal(m)} * Math.log(den${j}))`;
  return `const den${j} = 1.0 + ${terms.join(' + ')}; const inh${j} = ${inverse};`;
}

export function rateSource(reactions: readonly ReactionModel[]): RateSource {
  const constants: string[] = [];
  // k_j = A_j · exp(−(Ea/R)_j / T): rate constants sharing an activation energy share one exp.
  const groups = new Map<number, number>();
  const arrhenius = (name: string, kRef: number, eaOverR: number, tRef: number) => {
    if (!(kRef > 0)) {
      constants.push(`${name} = 0.0;`);
      return;
    }
    let g = groups.get(eaOverR);
    if (g === undefined) {
      g = groups.size;
      groups.set(eaOverR, g);
      constants.push(`const e${g} = Math.exp(${literal(-eaOverR)} * inv);`);
    }
    const preExponential = Math.exp(Math.log(kRef) + eaOverR / tRef);
    constants.push(`${name} = ${literal(preExponential)} * e${g};`);
  };
  reactions.forEach((r, j) => {
    arrhenius(`k${j}`, r.kRef, r.eaOverR, r.tRef);
    if (r.reverse) arrhenius(`kr${j}`, r.reverse.kRef, r.reverse.eaOverR, r.tRef);
    r.adsorption?.species.forEach((_, n) =>
      arrhenius(`ka${j}_${n}`, r.adsorption!.kRef[n]!, r.adsorption!.eaOverR[n]!, r.tRef),
    );
  });
  const variables = [
    ...Array.from({ length: Math.max(1, reactions.length) }, (_, j) => `k${j}`),
    ...reactions.flatMap((r, j) => (r.reverse ? [`kr${j}`] : [])),
    ...reactions.flatMap((r, j) =>
      Array.from(r.adsorption?.species ?? [], (_, n) => `ka${j}_${n}`),
    ),
  ];

  const species = new Set<number>();
  for (const r of reactions) {
    r.orderSpecies.forEach((i) => species.add(i));
    r.reverse?.orderSpecies.forEach((i) => species.add(i));
    r.adsorption?.species.forEach((i) => species.add(i));
    r.stoichSpecies.forEach((i) => species.add(i));
  }
  // Concentrations floored at zero for the rates (a rate needs its reactants present).
  const reads = (read: (i: number) => string) =>
    [...species].map(
      (i) =>
        `const c${index(i)} = ${read(i)}; const p${index(i)} = c${index(i)} > 0 ? c${index(i)} : 0;`,
    );

  const rates = reactions.map((r, j) => {
    // Adsorption divides both directions by den^exponent (inh = den^−exponent).
    const adsorption = r.adsorption;
    const inhibition = adsorption ? [`inh${j}`] : [];
    const prefix = adsorption ? `${adsorptionLines(adsorption, j)} ` : '';
    const forward = ['mult', `k${j}`, ...powerFactors(r.orderSpecies, r.orders), ...inhibition];
    if (!r.reverse) return `${prefix}const r${j} = ${forward.join(' * ')};`;
    const reverse = [
      'mult',
      `kr${j}`,
      ...powerFactors(r.reverse.orderSpecies, r.reverse.orders),
      ...inhibition,
    ];
    return `${prefix}const rf${j} = ${forward.join(' * ')}; const rb${j} = ${reverse.join(' * ')}; const r${j} = rf${j} - rb${j};`;
  });
  const heat =
    reactions.map((r, j) => `${literal(-r.heatOfReaction)} * r${j}`).join(' + ') || '0.0';

  const produced = new Map<number, string[]>();
  const consumed = new Map<number, string[]>();
  reactions.forEach((r, j) => {
    r.stoichSpecies.forEach((i, p) => {
      const nu = r.stoich[p]!;
      const term = nu === 1 ? `r${j}` : nu === -1 ? `-r${j}` : `${literal(nu)} * r${j}`;
      produced.set(i, [...(produced.get(i) ?? []), term]);
      // Consumed by the forward rate as a reactant, by the reverse rate as a product.
      const rate = nu < 0 ? (r.reverse ? `rf${j}` : `r${j}`) : r.reverse ? `rb${j}` : undefined;
      if (rate === undefined) return;
      const nuAbs = Math.abs(nu);
      consumed.set(i, [
        ...(consumed.get(i) ?? []),
        nuAbs === 1 ? rate : `${literal(nuAbs)} * ${rate}`,
      ]);
    });
  });
  const sum = (terms: string[]) => `(${terms.join(' + ').replace(/\+ -/g, '- ')})`;
  return {
    variables,
    constants,
    species: [...species],
    reads,
    rates,
    heat,
    production: new Map([...produced].map(([i, terms]) => [i, sum(terms)])),
    consumption: new Map([...consumed].map(([i, terms]) => [i, sum(terms)])),
  };
}

export function compileRateKernel(reactions: readonly ReactionModel[]): RateKernel {
  const src = rateSource(reactions);
  // Rate constants, cached while the temperature holds (isothermal stretches, cells at the
  // jacket temperature).
  const prelude = [
    'if (T !== lastT) {',
    '  lastT = T;',
    '  const inv = 1 / T;',
    ...src.constants.map((line) => `  ${line}`),
    '}',
    ...src.reads((i) => `c[off + ${index(i)}]`),
    ...src.rates,
  ];
  const lines = [...prelude, `result[0] = ${src.heat};`];
  for (const [i, expression] of src.production)
    lines.push(`out[outOff + ${index(i)}] += scale * ${expression};`);
  lines.push('let f = 0.0;');
  for (const [i, expression] of src.consumption) {
    lines.push(
      `if (c${index(i)} > 0) { const g = ${expression} / c${index(i)}; if (g > f) f = g; }`,
    );
  }
  lines.push('result[1] = f;');

  // The Jacobian: the same prelude (rate constants, concentrations, rates), then
  // ∂r_j/∂c_l = n_jl · r_j / c_l and ∂r_j/∂T = r_j · (Ea_j/R) / T², for a reversible
  // reaction the forward minus the reverse part, each with its own orders and Ea/R.
  const jac: string[] = [...prelude, 'const inv2 = 1 / (T * T);'];
  const derivatives = new Map<string, string[]>(); // `${row},${col}` → terms
  const addTerm = (row: string, col: string, term: string) => {
    const key = `${row},${col}`;
    derivatives.set(key, [...(derivatives.get(key) ?? []), term]);
  };
  reactions.forEach((r, j) => {
    const reverse = r.reverse;
    const adsorption = r.adsorption;
    const forward = reverse ? `rf${j}` : `r${j}`;
    // Adsorption: ∂r/∂c_s −= exponent·r·K_s/den, ∂r/∂T −= exponent·r·Σ_s(K_s·(ΔH/R)_s·c_s)/(den·T²).
    const inhibitionT = adsorption
      ? ` - ${literal(adsorption.exponent)} * r${j} * (${Array.from(
          adsorption.species,
          (i, n) => `ka${j}_${n} * ${literal(adsorption.eaOverR[n]!)} * p${index(i)}`,
        ).join(' + ')}) * inv2 / den${j}`
      : '';
    jac.push(
      reverse
        ? `const dT${j} = (${forward} * ${literal(r.eaOverR)} - rb${j} * ${literal(reverse.eaOverR)}) * inv2${inhibitionT};`
        : `const dT${j} = r${j} * ${literal(r.eaOverR)} * inv2${inhibitionT};`,
    );
    const order = (species: Int32Array, orders: Float64Array, l: number) => {
      const p = species.indexOf(l);
      return p < 0 ? 0 : orders[p]!;
    };
    const touched = [
      ...new Set([
        ...r.orderSpecies,
        ...(reverse?.orderSpecies ?? []),
        ...(adsorption?.species ?? []),
      ]),
    ];
    touched.forEach((l) => {
      const terms = [`${literal(order(r.orderSpecies, r.orders, l))} * ${forward}`];
      if (reverse)
        terms.push(`${literal(order(reverse.orderSpecies, reverse.orders, l))} * rb${j}`);
      const n = adsorption ? adsorption.species.indexOf(l) : -1;
      const inhibition =
        n >= 0 ? ` - ${literal(adsorption!.exponent)} * r${j} * ka${j}_${n} / den${j}` : '';
      jac.push(
        `const d${j}_${index(l)} = c${index(l)} > 0 ? (${terms.join(' - ')}) / c${index(l)}${inhibition} : 0.0;`,
      );
    });
    const heat = -r.heatOfReaction;
    r.stoichSpecies.forEach((i, p) => {
      const nu = literal(r.stoich[p]!);
      touched.forEach((l) => addTerm(index(i), index(l), `${nu} * d${j}_${index(l)}`));
      addTerm(index(i), 'n', `${nu} * dT${j}`);
    });
    if (heat !== 0) {
      touched.forEach((l) => addTerm('n', index(l), `${literal(heat)} * d${j}_${index(l)}`));
      addTerm('n', 'n', `${literal(heat)} * dT${j}`);
    }
  });
  for (const [key, terms] of derivatives) {
    const [row, col] = key.split(',') as [string, string];
    jac.push(`J[${row} * ld + ${col}] = ${terms.join(' + ')};`);
  }

  const declarations = `let lastT = NaN; ${src.variables.map((k) => `let ${k} = 0.0;`).join(' ')}`;
  const source =
    `${declarations}\nconst apply = function rateKernel(c, off, T, mult, out, outOff, scale) {\n${lines.join('\n')}\n};\n` +
    `const jacobian = function rateJacobian(c, off, T, mult, J, ld, n) {\n${jac.join('\n')}\n};\n` +
    'return { apply, jacobian };';
  const result = new Float64Array(2);
  const factory = compileGenerated<Pick<RateKernel, 'apply' | 'jacobian'>>(['result'], source);
  const compiled = factory(result);
  return { apply: compiled.apply, jacobian: compiled.jacobian, result, source };
}
