import type { Actor, LotStore, OrderStore, ProductionOrderEntity } from '@pipac/persistence';
import type { PlantModel, TankModel } from '@pipac/recipe';
import type { CellReadings, LatestValue } from './cell-readings';
import {
  UNALLOCATED,
  type LedgerLabels,
  type ProductionLedger,
  type StepActuals,
  type TankOpening,
} from './production-ledger';

export interface OrderKeeperOptions {
  model: PlantModel;
  orders: OrderStore;
  lots: LotStore;
  ledger: ProductionLedger;
  clock: () => number;
}

/** The order the cell works on, and its lots. */
export interface ActiveOrder {
  order: ProductionOrderEntity;
  /** Lot id per step (what the step makes for this order). */
  stepLots: Map<string, string>;
  /** Lot id per feed (raw material drawn for this order). */
  feedLots: Map<string, string>;
  /** Lot id per tank of what it held when the order started (its opening inventory). */
  openingLots: Map<string, string>;
  /** Taken over while already Running (the coordinator restarted mid-order). */
  resumed: boolean;
  /** g of final product made in spec. */
  producedInSpec: number;
}

export interface OrderProgress {
  order: ProductionOrderEntity;
  /** g in spec of the final product, and the order's quantity in g. */
  produced: number;
  target: number;
  /** Per step, the last interval's actuals. */
  actuals: StepActuals[];
}

const COORDINATOR: Actor = { kind: 'system', id: 'coordinator' };
const GRAMS: Record<string, number> = { g: 1, kg: 1000 };

/**
 * The cell's side of the order lifecycle: takes the first released order (by priority, then
 * age), prepares and starts it (ISA-95 Released → Ready → Running), opens one lot per step
 * and per raw material, and one per surge tank for what it held when the order started (its
 * opening inventory, made before the order), books what each step made and consumed every
 * cycle (production performance and genealogy; tank draws by the lots the tank's tracked
 * contents came from), records the analysers' results as the lots' quality evidence,
 * and completes the order when the last step has made its quantity in spec. A held order
 * is neither fed nor booked; a resumed one carries on in the same lots.
 */
export class OrderKeeper {
  private current: ActiveOrder | undefined;
  private readonly lastStep: string;

  constructor(private readonly options: OrderKeeperOptions) {
    this.lastStep = options.model.steps.at(-1)!.id;
  }

  get active(): ActiveOrder | undefined {
    return this.current;
  }

  /** Where an event of `step` belongs: the running order and the step's lot. */
  context(step: string): { orderId?: string; lotId?: string } {
    const active = this.current;
    if (!active) return {};
    const lotId = active.stepLots.get(step);
    return { orderId: active.order.id, ...(lotId ? { lotId } : {}) };
  }

  /** g of final product still to make for the running order, or undefined when none runs. */
  remaining(): number | undefined {
    const active = this.current;
    if (active?.order.state !== 'Running') return undefined;
    return Math.max(0, this.targetGrams(active.order) - active.producedInSpec);
  }

  /**
   * One coordinator cycle: follows state changes made elsewhere (the ERP holds or aborts),
   * takes the next order when none runs, and books the last `seconds` of production.
   */
  async cycle(readings: CellReadings, seconds: number): Promise<OrderProgress | undefined> {
    await this.refresh();
    if (!this.current) await this.takeNext();
    // The tanks are tracked whether or not an order runs: material flows regardless.
    const { actuals, openings } = this.options.ledger.advance(readings, seconds, this.labels());
    const active = this.current;
    if (active?.order.state !== 'Running') return undefined;
    await this.openInventories(active, openings);
    await this.book(active, actuals, seconds);
    const target = this.targetGrams(active.order);
    if (active.producedInSpec >= target) {
      active.order = await this.options.orders.transition(
        active.order.id,
        'complete',
        COORDINATOR,
        `${format(active.producedInSpec)} g of ${active.order.product} made in spec (ordered ${format(target)} g)`,
      );
      await this.closeLots(active, 'complete');
      this.current = undefined;
    }
    return { order: active.order, produced: active.producedInSpec, target, actuals };
  }

  /** An analyser result: quality evidence of the lot the step is making. */
  async recordQuality(step: string, tag: string, value: LatestValue): Promise<void> {
    const active = this.current;
    const lotId = active?.stepLots.get(step);
    const model = this.options.model.steps.find((s) => s.id === step);
    if (!active || active.order.state !== 'Running' || !lotId || !model) return;
    if (tag !== this.options.ledger.conversionTag(model) || !value.good) return;
    await this.options.lots.recordQuality({
      orderId: active.order.id,
      lotId,
      step,
      tag,
      value: value.value,
      unit: '1',
      inSpec: value.value >= model.minConversion,
      sampledAt: new Date(
        Number.isFinite(value.at) ? value.at : this.options.clock(),
      ).toISOString(),
    });
  }

  private async refresh(): Promise<void> {
    const active = this.current;
    if (!active) return;
    active.order = await this.options.orders.get(active.order.id);
    if (active.order.state === 'Aborted' || active.order.state === 'Closed') {
      await this.closeLots(active, 'complete');
      this.current = undefined;
    } else if (active.order.state === 'Ready') {
      // Resumed after a hold: production goes on in the same lots.
      active.order = await this.options.orders.transition(
        active.order.id,
        'start',
        COORDINATOR,
        'production resumed',
      );
    }
  }

  private async takeNext(): Promise<void> {
    const next = (await this.options.orders.queue()).find(
      (o) => o.state === 'Released' || o.state === 'Ready' || o.state === 'Running',
    );
    if (!next) return;
    let order = next;
    if (order.state === 'Released') {
      order = await this.options.orders.transition(
        order.id,
        'prepare',
        COORDINATOR,
        'accepted by the cell',
      );
    }
    const active: ActiveOrder = {
      order,
      stepLots: new Map(),
      feedLots: new Map(),
      openingLots: new Map(),
      resumed: order.state === 'Running',
      producedInSpec: 0,
    };
    await this.openLots(active);
    if (!active.resumed) {
      // What the tanks hold now was made before the order: each is a lot of its own.
      const openings = this.options.ledger.allocate((tank) => this.openingLot(active, tank));
      await this.openInventories(active, openings);
    }
    if (order.state === 'Ready') {
      active.order = await this.options.orders.transition(
        order.id,
        'start',
        COORDINATOR,
        'production started',
      );
    }
    const finalLot = active.stepLots.get(this.lastStep)!;
    active.producedInSpec = (await this.options.lots.getLot(finalLot)).quantity;
    await this.options.orders.setProgress(
      order.id,
      this.inOrderUnit(active.order, active.producedInSpec),
      finalLot,
    );
    this.current = active;
  }

  private async openLots(active: ActiveOrder): Promise<void> {
    const { order } = active;
    const at = new Date(this.options.clock()).toISOString();
    const open = async (id: string, material: string, step: string | null, unit: string) => {
      const exists = await this.options.lots.getLot(id).then(
        () => true,
        () => false,
      );
      if (!exists)
        await this.options.lots.createLot({ id, material, step, orderId: order.id, unit }, at);
      return id;
    };
    for (const feed of this.options.model.feeds) {
      active.feedLots.set(
        feed.id,
        await open(lotId(order, feed.id), feed.id, null, feed.gas ? 'NmL' : 'mL'),
      );
    }
    for (const step of this.options.model.steps) {
      active.stepLots.set(
        step.id,
        await open(lotId(order, step.id), step.spec.product, step.id, 'g'),
      );
    }
  }

  /** The lots the ledger books material under: this order's, or a placeholder while none runs. */
  private labels(): LedgerLabels {
    const active = this.current;
    const steps = this.options.model.steps;
    if (!active) return { fill: () => UNALLOCATED, opening: () => UNALLOCATED };
    return {
      fill: (step) => active.stepLots.get(step.id)!,
      // A tank first read during the order: its contents were made before the order, unless
      // the coordinator restarted mid-order (then most of it is the order's own; estimated).
      opening: (tank) =>
        active.resumed
          ? active.stepLots.get(steps[tank.fillingStep]!.id)!
          : this.openingLot(active, tank),
    };
  }

  private openingLot(active: ActiveOrder, tank: TankModel): string {
    return lotId(active.order, `${tank.id}.opening`);
  }

  /** Creates the opening-inventory lots of tanks the ledger has allocated to the order. */
  private async openInventories(active: ActiveOrder, openings: TankOpening[]): Promise<void> {
    const at = new Date(this.options.clock()).toISOString();
    for (const opening of openings) {
      const id = this.openingLot(
        active,
        this.options.model.tanks.find((t) => t.id === opening.tank)!,
      );
      if (opening.lot !== id || active.openingLots.has(opening.tank)) continue;
      const exists = await this.options.lots.getLot(id).then(
        () => true,
        () => false,
      );
      if (!exists)
        await this.options.lots.createLot(
          {
            id,
            material: opening.material,
            step: opening.step,
            orderId: active.order.id,
            unit: 'g',
            quantity: opening.grams,
          },
          at,
        );
      active.openingLots.set(opening.tank, id);
    }
  }

  private async book(active: ActiveOrder, actuals: StepActuals[], seconds: number): Promise<void> {
    const to = this.options.clock();
    const from = new Date(to - seconds * 1000).toISOString();
    for (const step of actuals) {
      // Zero flows book nothing; anything estimated or unmeasured is booked with its reason.
      const inputs = step.inputs.filter((i) => i.quantity > 0 || i.basis !== 'measured');
      if (step.produced === 0 && step.basis === 'measured' && inputs.length === 0) continue;
      await this.options.lots.recordInterval({
        orderId: active.order.id,
        step: step.step,
        from,
        to: new Date(to).toISOString(),
        produced: {
          lotId: active.stepLots.get(step.step)!,
          material: step.material,
          quantity: step.produced,
          inSpec: step.inSpec,
          unit: 'g',
          basis: step.basis,
          estimated: step.estimated,
          keyMoles: step.keyRequired,
          ...(step.note ? { note: step.note } : {}),
        },
        consumed: inputs.map((input) => ({
          lotId: this.inputLot(active, input),
          material: input.material,
          quantity: input.quantity,
          unit: input.unit,
          basis: input.basis,
          estimated: input.estimated,
          keyMoles: input.keyMoles,
          ...(input.note ? { note: input.note } : {}),
        })),
      });
      if (step.step === this.lastStep) active.producedInSpec += step.inSpec;
    }
    await this.options.orders.setProgress(
      active.order.id,
      this.inOrderUnit(active.order, active.producedInSpec),
    );
    active.order.producedQuantity = this.inOrderUnit(active.order, active.producedInSpec);
  }

  /** The lot an input came from: its feed's, or the tank contents' lot (a placeholder: the tank's opening lot, or its filler's). */
  private inputLot(active: ActiveOrder, input: StepActuals['inputs'][number]): string {
    if (input.kind === 'feed') return active.feedLots.get(input.source)!;
    if (input.lot !== UNALLOCATED) return input.lot;
    const tank = this.options.model.tanks.find((t) => t.id === input.source)!;
    return (
      active.openingLots.get(tank.id) ??
      active.stepLots.get(this.options.model.steps[tank.fillingStep]!.id)!
    );
  }

  private async closeLots(active: ActiveOrder, status: 'complete'): Promise<void> {
    const at = new Date(this.options.clock()).toISOString();
    for (const id of [
      ...active.feedLots.values(),
      ...active.openingLots.values(),
      ...active.stepLots.values(),
    ]) {
      await this.options.lots.setLotStatus(id, status, at);
    }
  }

  private targetGrams(order: ProductionOrderEntity): number {
    return order.quantity * (GRAMS[order.unit] ?? 1);
  }

  private inOrderUnit(order: ProductionOrderEntity, grams: number): number {
    return grams / (GRAMS[order.unit] ?? 1);
  }
}

/** A lot number from the order's ERP reference and the step or feed: letters, digits, . _ - only. */
export function lotId(order: Pick<ProductionOrderEntity, 'erpReference'>, part: string): string {
  return `${order.erpReference}.${part}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

function format(grams: number): string {
  return grams.toFixed(grams < 10 ? 2 : 1);
}
