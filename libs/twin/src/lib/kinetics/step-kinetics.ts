import type { StepModel } from '@pipac/recipe';

/**
 * Special cases of c^n. Measured on Node 20 (x86-64): Math.pow with a fractional exponent
 * costs about 75 ns, exp(n·log c) about 40 ns, c·sqrt(c) about 8 ns; the rate kernel runs
 * hundreds of times per steady-state solution, so common orders are multiplied out.
 */
const ORDER_KIND = { general: 0, one: 1, two: 2, half: 3, threeHalves: 4 } as const;

function orderKind(order: number): number {
  if (order === 1) return ORDER_KIND.one;
  if (order === 2) return ORDER_KIND.two;
  if (order === 0.5) return ORDER_KIND.half;
  if (order === 1.5) return ORDER_KIND.threeHalves;
  return ORDER_KIND.general;
}

/**
 * The reaction network of one step, flattened for fast evaluation in the solvers' inner
 * loops: no allocation per call, integer orders multiplied out, k(T) cached while T holds.
 *
 * Power-law rates: r_j = m · k_j(T) · Π_i max(c_i, 0)^n_ij, with the Arrhenius form
 * k_j(T) = k_ref,j · exp(−Ea_j/R · (1/T − 1/T_ref,j)) and m a multiplier (catalyst
 * activity × kinetic mismatch). A reversible reaction subtracts its reverse rate,
 * m · k_r,j(T) · Π_i max(c_i, 0)^n'_ij, k_r = k/K (ReactionModel.reverse); adsorption divides
 * both by (1 + Σ_s K_s(T)·max(c_s, 0))^exponent (ReactionModel.adsorption).
 */
export class StepKinetics {
  readonly reactionCount: number;
  /** Rates of the last evaluation, mol/(L·s). */
  readonly rates: Float64Array;
  private readonly kRef: Float64Array;
  private readonly tRef: Float64Array;
  private readonly eaOverR: Float64Array;
  private readonly k: Float64Array;
  /** ln(k_ref) + Ea/(R·T_ref): k(T) = exp(lnA − Ea/(R·T)), one exp per reaction. */
  private readonly lnPreExponential: Float64Array;
  private readonly heatOfReaction: Float64Array;
  private readonly orderStart: Int32Array;
  private readonly orderSpecies: Int32Array;
  private readonly orders: Float64Array;
  /** How to raise c to the order: see ORDER_KIND. */
  private readonly orderKind: Uint8Array;
  private readonly stoichStart: Int32Array;
  private readonly stoichSpecies: Int32Array;
  private readonly stoich: Float64Array;
  private cachedT = Number.NaN;
  /** Scratch: consumption rate per species index. */
  private readonly consumption: Float64Array;
  /** Reversible reactions: their reverse rates, as the reaction's forward part above. */
  private readonly reverse: (
    | {
        lnPreExponential: number;
        eaOverR: number;
        species: Int32Array;
        orders: Float64Array;
      }
    | undefined
  )[];
  private readonly kReverse: Float64Array;
  private readonly adsorption: StepModel['reactions'][number]['adsorption'][];
  /** The last evaluation's reverse rates (0 for irreversible reactions), mol/(L·s). */
  private readonly reverseRates: Float64Array;

  constructor(step: Pick<StepModel, 'reactions'>) {
    const reactions = step.reactions;
    const m = reactions.length;
    this.reactionCount = m;
    this.rates = new Float64Array(m);
    this.k = new Float64Array(m);
    this.kRef = Float64Array.from(reactions.map((r) => r.kRef));
    this.tRef = Float64Array.from(reactions.map((r) => r.tRef));
    this.eaOverR = Float64Array.from(reactions.map((r) => r.eaOverR));
    this.heatOfReaction = Float64Array.from(reactions.map((r) => r.heatOfReaction));
    this.lnPreExponential = Float64Array.from(reactions, (r) =>
      r.kRef > 0 ? Math.log(r.kRef) + r.eaOverR / r.tRef : -Infinity,
    );
    this.orderStart = new Int32Array(m + 1);
    this.stoichStart = new Int32Array(m + 1);
    for (let j = 0; j < m; j++) {
      const r = reactions[j]!;
      this.orderStart[j + 1] = this.orderStart[j]! + r.orderSpecies.length;
      this.stoichStart[j + 1] = this.stoichStart[j]! + r.stoichSpecies.length;
    }
    this.orderSpecies = Int32Array.from(reactions.flatMap((r) => Array.from(r.orderSpecies)));
    this.orders = Float64Array.from(reactions.flatMap((r) => Array.from(r.orders)));
    this.orderKind = Uint8Array.from(this.orders, orderKind);
    this.stoichSpecies = Int32Array.from(reactions.flatMap((r) => Array.from(r.stoichSpecies)));
    this.stoich = Float64Array.from(reactions.flatMap((r) => Array.from(r.stoich)));
    this.consumption = new Float64Array(
      this.stoichSpecies.reduce((max, i) => Math.max(max, i + 1), 0),
    );
    this.reverse = reactions.map((r) =>
      r.reverse
        ? {
            lnPreExponential:
              r.reverse.kRef > 0
                ? Math.log(r.reverse.kRef) + r.reverse.eaOverR / r.tRef
                : -Infinity,
            eaOverR: r.reverse.eaOverR,
            species: r.reverse.orderSpecies,
            orders: r.reverse.orders,
          }
        : undefined,
    );
    this.kReverse = new Float64Array(m);
    this.adsorption = reactions.map((r) => r.adsorption);
    this.reverseRates = new Float64Array(m);
  }

  /** Arrhenius rate constant of reaction j at T (K). */
  rateConstant(j: number, temperature: number): number {
    return this.kRef[j]! * Math.exp(-this.eaOverR[j]! * (1 / temperature - 1 / this.tRef[j]!));
  }

  /**
   * Evaluates every rate at the concentrations c[offset..] and temperature T (K) into
   * `this.rates`, and returns the heat released, Σ(−ΔH_j)·r_j, W/L.
   */
  evaluate(c: Float64Array, offset: number, temperature: number, multiplier: number): number {
    // Locals, not `this.` loads, in the loops: measured 2× faster on V8.
    const m = this.reactionCount;
    const k = this.k;
    const rates = this.rates;
    const heatOfReaction = this.heatOfReaction;
    const orderStart = this.orderStart;
    const orderSpecies = this.orderSpecies;
    const orderKinds = this.orderKind;
    const orders = this.orders;
    if (temperature !== this.cachedT) {
      const lnA = this.lnPreExponential;
      const eaOverR = this.eaOverR;
      const inverseT = 1 / temperature;
      for (let j = 0; j < m; j++) k[j] = Math.exp(lnA[j]! - eaOverR[j]! * inverseT);
      this.reverse.forEach((reverse, j) => {
        if (reverse)
          this.kReverse[j] = Math.exp(reverse.lnPreExponential - reverse.eaOverR * inverseT);
      });
      this.cachedT = temperature;
    }
    let heat = 0;
    for (let j = 0; j < m; j++) {
      let r = multiplier * k[j]!;
      for (let p = orderStart[j]!, end = orderStart[j + 1]!; p < end; p++) {
        const ci = c[offset + orderSpecies[p]!]!;
        if (ci <= 0) {
          r = 0;
          break;
        }
        switch (orderKinds[p]) {
          case ORDER_KIND.one:
            r *= ci;
            break;
          case ORDER_KIND.two:
            r *= ci * ci;
            break;
          case ORDER_KIND.half:
            r *= Math.sqrt(ci);
            break;
          case ORDER_KIND.threeHalves:
            r *= ci * Math.sqrt(ci);
            break;
          default:
            r *= Math.exp(orders[p]! * Math.log(ci));
        }
      }
      const reverse = this.reverse[j];
      let back = reverse
        ? multiplier * this.kReverse[j]! * powerProduct(c, offset, reverse.species, reverse.orders)
        : 0;
      const adsorption = this.adsorption[j];
      if (adsorption) {
        const inhibition = adsorptionInhibition(adsorption, c, offset, temperature, this.tRef[j]!);
        r *= inhibition;
        back *= inhibition;
      }
      this.reverseRates[j] = back;
      r -= back;
      rates[j] = r;
      heat -= heatOfReaction[j]! * r;
    }
    return heat;
  }

  /** Adds scale × Σ_j ν_ij r_j (the last evaluated rates) to out[offset + i]. */
  accumulate(out: Float64Array, offset: number, scale: number): void {
    const rates = this.rates;
    const stoichStart = this.stoichStart;
    const stoichSpecies = this.stoichSpecies;
    const stoich = this.stoich;
    for (let j = 0, m = this.reactionCount; j < m; j++) {
      const r = rates[j]! * scale;
      if (r === 0) continue;
      for (let p = stoichStart[j]!, end = stoichStart[j + 1]!; p < end; p++) {
        out[offset + stoichSpecies[p]!]! += stoich[p]! * r;
      }
    }
  }

  /**
   * The fastest consumption frequency, 1/s, from the last evaluated rates:
   * max_i Σ_j (max(−ν_ij, 0)·r_f,j + max(ν_ij, 0)·r_b,j) / c_i over species present (c_i > 0),
   * r_f and r_b the forward and reverse rates (r_b = 0 for an irreversible reaction).
   */
  maxConsumptionFrequency(c: Float64Array, offset: number): number {
    const consumption = this.consumption;
    consumption.fill(0);
    for (let j = 0, m = this.reactionCount; j < m; j++) {
      const back = this.reverseRates[j]!;
      const forward = this.rates[j]! + back;
      for (let p = this.stoichStart[j]!, end = this.stoichStart[j + 1]!; p < end; p++) {
        const nu = this.stoich[p]!;
        consumption[this.stoichSpecies[p]!]! += nu < 0 ? -nu * forward : nu * back;
      }
    }
    let worst = 0;
    for (let i = 0; i < consumption.length; i++) {
      const ci = c[offset + i] ?? 0;
      if (ci > 0 && consumption[i]! > 0) worst = Math.max(worst, consumption[i]! / ci);
    }
    return worst;
  }
}

/** Π_i max(c_i, 0)^order_i over the given species (0 when one of them is absent). */
function powerProduct(
  c: Float64Array,
  offset: number,
  species: Int32Array,
  orders: Float64Array,
): number {
  let product = 1;
  for (let p = 0; p < species.length; p++) {
    const ci = c[offset + species[p]!]!;
    if (ci <= 0) return 0;
    product *= Math.exp(orders[p]! * Math.log(ci));
  }
  return product;
}

/**
 * (1 + Σ_s K_s(T)·max(c_s, 0))^−exponent, K_s(T) = K_s,ref · exp(−(ΔH/R)_s · (1/T − 1/T_ref)),
 * the constants already at the reaction's T_ref (`adsorption.kRef`).
 */
function adsorptionInhibition(
  adsorption: NonNullable<StepModel['reactions'][number]['adsorption']>,
  c: Float64Array,
  offset: number,
  temperature: number,
  tRef: number,
): number {
  let denominator = 1;
  adsorption.species.forEach((i, n) => {
    const K =
      adsorption.kRef[n]! * Math.exp(-adsorption.eaOverR[n]! * (1 / temperature - 1 / tRef));
    denominator += K * Math.max(c[offset + i]!, 0);
  });
  return Math.pow(denominator, -adsorption.exponent);
}
