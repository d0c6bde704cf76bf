import type { PlantModel } from '@pipac/recipe';
import { nominalSteadyState } from '../step/step-space';
import { CoordinationError } from './coordination.error';

/** mL/min → L/s */
const ML_PER_MIN = 1 / 60_000;

/** One step of the chain, in flow order. */
export interface ChainStep {
  id: string;
  /** Index in `model.steps`. */
  index: number;
  /**
   * Liquid outlet flow at throughput scale 1, mL/min: the sum of its liquid pumps' nominal
   * flows (gas is counted as dissolved and leaves at the separator). A throughput target's
   * outlet flow is scale × this, as the step agent reads it.
   */
  nominalOutletFlow: number;
  /** Position in `PlantChain.tanks` of the tank it draws from, or -1 (the head of the chain). */
  inletTank: number;
  /** Position in `PlantChain.tanks` of the tank it fills, or -1 (the end: product collection). */
  outletTank: number;
  /**
   * Its scale per unit of chain rate: the scales at which every tank's inflow equals its
   * draw are ratio × r for one chain rate r (1 for the head; 1 for every step of the
   * reference plant, whose recipe is balanced at scale 1).
   */
  ratio: number;
}

/** One surge tank of the chain; tank t sits between chain steps t and t + 1. */
export interface ChainTank {
  id: string;
  /** Index in `model.tanks` (and the plant's tank order). */
  index: number;
  /** L */
  capacity: number;
  minLevel: number;
  maxLevel: number;
  /** Inflow at the filling step's scale 1, L/s (its liquid outlet flow). */
  fill: number;
  /** Draw at the drawing step's scale 1, L/s (its pumps that take from this tank). */
  draw: number;
  /**
   * g of the plant product one litre drawn from this tank will give, at the recipe's steady
   * state (tanks-in-series model): the default the coordinator's order accounting uses.
   */
  productPerLitre: number;
}

/** A plant seen as the coordinator needs it: steps in flow order and the tanks between them. */
export interface PlantChain {
  steps: ChainStep[];
  tanks: ChainTank[];
}

/**
 * The chain of a plant: which tank each step fills and draws from, the ratio of each tank's
 * draw to the drawing step's nominal flows, the tank bounds and the product each litre in
 * process is worth. The coordinator balances a serial line only: every tank filled by one
 * step and drawn by the next, one head that draws no tank; anything else (a step drawing two
 * tanks, a tank feeding two steps, two separate lines) is refused with `UNSUPPORTED_PLANT`.
 */
export function derivePlantChain(model: PlantModel): PlantChain {
  const unsupported = (why: string) =>
    new CoordinationError('UNSUPPORTED_PLANT', `the coordinator balances a serial line: ${why}`);
  const drawers = model.tanks.map(() => [] as number[]);
  const inletOf = model.steps.map((step) => {
    const tanks = new Set(
      step.inlets.filter((inlet) => inlet.source === 'tank').map((inlet) => inlet.sourceIndex),
    );
    if (tanks.size > 1) throw unsupported(`step ${step.id} draws from ${tanks.size} tanks`);
    const [tank] = [...tanks];
    if (tank !== undefined) drawers[tank]!.push(step.index);
    return tank ?? -1;
  });
  model.tanks.forEach((tank, t) => {
    if (tank.fillingStep < 0) throw unsupported(`no step fills tank ${tank.id}`);
    if (drawers[t]!.length !== 1)
      throw unsupported(`tank ${tank.id} is drawn by ${drawers[t]!.length} steps`);
  });
  const heads = model.steps.filter((step) => inletOf[step.index]! < 0);
  if (heads.length !== 1)
    throw unsupported(
      `${heads.length} steps draw from no tank (${heads.map((s) => s.id).join(', ')})`,
    );

  const order: number[] = [];
  for (let s: number | undefined = heads[0]!.index; s !== undefined;) {
    order.push(s);
    const tank: number = model.steps[s]!.outletTank;
    s = tank >= 0 ? drawers[tank]![0] : undefined;
    if (s !== undefined && order.includes(s)) throw unsupported('the tanks form a loop');
  }
  if (order.length !== model.steps.length)
    throw unsupported(`only ${order.length} of ${model.steps.length} steps are in one line`);

  const outletFlow = (s: number) =>
    model.steps[s]!.inlets.filter((i) => !i.gas).reduce((sum, i) => sum + i.nominal, 0);
  const steps: ChainStep[] = order.map((s, position) => ({
    id: model.steps[s]!.id,
    index: s,
    nominalOutletFlow: outletFlow(s),
    inletTank: position - 1,
    outletTank: position < order.length - 1 ? position : -1,
    ratio: 1,
  }));
  const tanks: ChainTank[] = order.slice(0, -1).map((s, position) => {
    const spec = model.tanks[model.steps[s]!.outletTank]!;
    const drawer = model.steps[order[position + 1]!]!;
    const draw = drawer.inlets
      .filter((i) => i.source === 'tank' && i.sourceIndex === spec.index)
      .reduce((sum, i) => sum + i.nominal, 0);
    const fill = outletFlow(s);
    if (!(fill > 0 && draw > 0))
      throw unsupported(`tank ${spec.id} has no nominal inflow or draw (${fill}, ${draw} mL/min)`);
    return {
      id: spec.id,
      index: spec.index,
      capacity: spec.capacity,
      minLevel: spec.minLevel,
      maxLevel: spec.maxLevel,
      fill: fill * ML_PER_MIN,
      draw: draw * ML_PER_MIN,
      productPerLitre: 0,
    };
  });
  // Steady chain: tank t's inflow fill_t·u_t equals its draw draw_t·u_{t+1}.
  for (let t = 0; t < tanks.length; t++) {
    steps[t + 1]!.ratio = (steps[t]!.ratio * tanks[t]!.fill) / tanks[t]!.draw;
  }
  // A litre of the last step's outlet carries c_P·M of product; a litre drawn from tank t
  // leaves step t + 1 as out/draw litres, each worth what a litre of tank t + 1 is worth.
  const last = steps[steps.length - 1]!;
  const product = model.speciesIds[model.productIndex]!;
  const steady = nominalSteadyState(model);
  let perLitreOut =
    (steady.steps[last.index]!.outlet[product] ?? 0) * model.molarMass[model.productIndex]!;
  for (let t = tanks.length - 1; t >= 0; t--) {
    const tank = tanks[t]!;
    tank.productPerLitre = (perLitreOut * steps[t + 1]!.nominalOutletFlow * ML_PER_MIN) / tank.draw;
    perLitreOut = tank.productPerLitre;
  }
  return { steps, tanks };
}
