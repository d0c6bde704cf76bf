import type { PlantModel, StepModel } from '@pipac/recipe';
import { solvePlantSteadyState, type Plant } from '@pipac/twin';

/**
 * What the plant's material is worth, in grams of final product it could still make at the
 * recipe's nominal step yields (the twin's cell model at the recipe's setpoints). The same
 * price list for every controller: it values the surge tanks' inventory and the key reactant
 * fed past the throughput target.
 *
 * A step's key reactant is taken to be the product of the step that fills the tank it draws
 * from (a linear synthesis); only the in-spec part of a tank's content has value.
 */
export class ProductValuation {
  /** g of final product per mol of each step's key reactant, by step index. */
  readonly perKeyMole: readonly number[];
  /** g of final product per mol of each step's product, by step index (its price where it goes next). */
  readonly perProductMole: readonly number[];
  /** Key-reactant feed of each step at its nominal pump flows from fresh feeds, mol/s (0 for a step fed from a tank). */
  readonly nominalFreshKeyRate: readonly number[];

  constructor(private readonly model: PlantModel) {
    const steady = solvePlantSteadyState(model, {}, { model: 'cells' });
    const molesPerKey = model.steps.map((step) => {
      const figures = steady.steps[step.index]!.figures;
      return figures.yield / step.yieldFactor;
    });
    const perKeyMole: number[] = new Array<number>(model.steps.length).fill(0);
    const perProductMole: number[] = new Array<number>(model.steps.length).fill(0);
    // Downstream first: a step's product is worth what the next step makes of it.
    for (const step of [...model.steps].reverse()) {
      const next = this.drawingStep(step.outletTank);
      const productValue = next
        ? perKeyMole[next.index]!
        : step.productIndex === model.productIndex
          ? model.molarMass[model.productIndex]!
          : 0;
      perProductMole[step.index] = productValue;
      perKeyMole[step.index] = molesPerKey[step.index]! * productValue;
    }
    this.perKeyMole = perKeyMole;
    this.perProductMole = perProductMole;
    this.nominalFreshKeyRate = model.steps.map((step) => this.freshKeyRate(step));
  }

  /** g of final product the in-spec content of each tank could make, by tank id. */
  tankValues(plant: Plant): Record<string, number> {
    const values: Record<string, number> = {};
    this.model.tanks.forEach((spec, index) => {
      const next = this.drawingStep(index);
      const tank = plant.tank(spec.id);
      values[spec.id] = next
        ? tank.level *
          tank.concentrations[next.keyIndex]! *
          tank.inSpecFraction *
          this.perKeyMole[next.index]!
        : 0;
    });
    return values;
  }

  /** The step that draws from tank `tankIndex` (none for collection, index < 0). */
  private drawingStep(tankIndex: number): StepModel | undefined {
    if (tankIndex < 0) return undefined;
    return this.model.steps.find((s) =>
      s.inlets.some((inlet) => inlet.source === 'tank' && inlet.sourceIndex === tankIndex),
    );
  }

  /** mol/s of the key reactant a step draws from fresh feeds at its nominal liquid flows; 0 if any inlet is a tank. */
  private freshKeyRate(step: StepModel): number {
    if (step.inlets.some((inlet) => inlet.source === 'tank')) return 0;
    return step.inlets.reduce((sum, inlet) => {
      if (inlet.gas) return sum;
      const feed = this.model.feeds[inlet.sourceIndex]!;
      return sum + inlet.nominal * inlet.toInternal * feed.concentrations[step.keyIndex]!;
    }, 0);
  }
}

const CACHE = new WeakMap<PlantModel, ProductValuation>();

/** The valuation of a model, computed once (one steady-state solve). */
export function productValuation(model: PlantModel): ProductValuation {
  let valuation = CACHE.get(model);
  if (!valuation) {
    valuation = new ProductValuation(model);
    CACHE.set(model, valuation);
  }
  return valuation;
}
