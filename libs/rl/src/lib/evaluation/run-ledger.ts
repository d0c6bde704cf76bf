import type { Plant } from '@pipac/twin';
import type { ProductValuation } from './product-value';

/**
 * What a closed-loop run is scored by, in grams of final product (product-equivalent where it
 * is not product yet), the same rule for every controller.
 */
export interface RunScore {
  /** g of plant product made in spec at every step (off-spec intermediate makes none). */
  product: number;
  /** g product-equivalent: in-spec tank inventory at the end minus at the start (negative: drawn down). */
  inventoryChange: number;
  /** Per tank id, the same. */
  tankChange: Record<string, number>;
  /**
   * g product-equivalent of the key reactant fed from fresh feeds beyond what the throughput
   * target asked over the run (∫ target × nominal key feed dt), charged so that product made
   * past the target earns nothing: at the key's nominal product value, or at the value this
   * run made of its fresh key where that is more (a controller with a better yield than the
   * recipe's would otherwise gain by feeding past the target). Intermediate drawn past the
   * target is charged already, as the drawn tank's inventory change.
   */
  overTarget: number;
  /** product + inventoryChange − overTarget: what the evaluation ranks by. */
  score: number;
}

/** Books a run's start inventory and the feed the throughput target asked, and scores it at the end. */
export class RunLedger {
  private readonly startValues: Record<string, number>;
  /** mol of key reactant asked of each step from fresh feeds so far. */
  private readonly asked: Float64Array;

  constructor(
    private readonly plant: Plant,
    private readonly valuation: ProductValuation,
  ) {
    this.startValues = valuation.tankValues(plant);
    this.asked = new Float64Array(plant.units.length);
  }

  /** Step `index` is asked `target` × its nominal feed for the next `seconds`. */
  ask(index: number, target: number, seconds: number): void {
    this.asked[index]! += target * this.valuation.nominalFreshKeyRate[index]! * seconds;
  }

  /** The score now, with `product` the g of plant product in spec at every step. */
  score(product: number): RunScore {
    const end = this.valuation.tankValues(this.plant);
    const tankChange: Record<string, number> = {};
    let inventoryChange = 0;
    for (const [id, value] of Object.entries(end)) {
      tankChange[id] = value - (this.startValues[id] ?? 0);
      inventoryChange += tankChange[id];
    }
    // What the run made of its fresh key reactant, relative to its nominal product value.
    let freshValue = 0;
    let excessValue = 0;
    this.plant.units.forEach((unit, s) => {
      if (this.valuation.nominalFreshKeyRate[s]! <= 0) return;
      const perKey = this.valuation.perKeyMole[s]!;
      freshValue += unit.totals.keyIn * perKey;
      // keyIn and asked integrate the same flow along two paths: what they differ by within
      // rounding (1e-9 relative) is not feed past the target.
      const excess = unit.totals.keyIn - this.asked[s]!;
      if (excess > 1e-9 * this.asked[s]!) excessValue += excess * perKey;
    });
    const realised = freshValue > 0 ? (product + inventoryChange) / freshValue : 0;
    const overTarget = excessValue * Math.max(1, realised);
    return {
      product,
      inventoryChange,
      tankChange,
      overTarget,
      score: product + inventoryChange - overTarget,
    };
  }
}
