import {
  SurgeTankInventory,
  keyReactantMoles,
  keyRequiredMoles,
  nominalSteadyState,
} from '@pipac/control';
import { analyserMeasureTag, currentValueTag, tankLevelTag } from '@pipac/contracts';
import type { PlantModel, StepModel, TankModel } from '@pipac/recipe';
import type { CellReadings } from './cell-readings';

/** How a booked quantity was found (see PerformanceRecordEntity's `basis`). */
export type Basis = 'measured' | 'estimated' | 'unmeasured';

/** What went into a step over an interval: a feed (mL or NmL of solution) or a tank (g of the upstream product). */
export interface StepInput {
  kind: 'feed' | 'tank';
  /** The feed's id, or the tank's. */
  source: string;
  /** Whose material: the feed's id, or the lot of the tank's contents it came from (the labels the ledger was given). */
  lot: string;
  material: string;
  quantity: number;
  unit: 'mL' | 'NmL' | 'g';
  /** Of `quantity`, what was estimated. */
  estimated: number;
  basis: Basis;
  /** Why it is estimated or unmeasured. */
  note?: string;
  /** mol of the step's key reactant it carried. */
  keyMoles: number;
}

/** A step's material actuals over one interval, from the sensors. */
export interface StepActuals {
  step: string;
  material: string;
  /** g of product that left the reactor, and how much of it was in spec. */
  produced: number;
  inSpec: number;
  /** Of `produced`, what was estimated (a held last good value). */
  estimated: number;
  basis: Basis;
  /** Why the product is estimated or unmeasured. */
  note?: string;
  /** Why the product could not be measured at all, when it could not (produced is then 0). */
  unmeasured?: string;
  /** mol of key reactant the product needs by stoichiometry. */
  keyRequired: number;
  inputs: StepInput[];
}

/** Which lot the ledger books material under (the order keeper's lots, or a placeholder). */
export interface LedgerLabels {
  /** The lot a step's product goes into its outlet tank as. */
  fill(step: StepModel): string;
  /** The lot of what a tank holds when the ledger starts tracking it. */
  opening(tank: TankModel): string;
}

/** What a tank held when its tracking began or an order took it over. */
export interface TankOpening {
  tank: string;
  /** The step that filled it, and the material tracked. */
  step: string;
  material: string;
  lot: string;
  /** L, and g of the material; of it, g estimated. */
  volume: number;
  grams: number;
  estimated: number;
  note: string;
}

export interface LedgerInterval {
  actuals: StepActuals[];
  /** Tanks whose tracking began this interval (their first level reading). */
  openings: TankOpening[];
}

interface Value {
  value: number;
  basis: Basis;
  note?: string;
}

/** Placeholder lot of material made while no order runs; an order's start relabels it. */
export const UNALLOCATED = 'unallocated';

/**
 * Production performance from what the plant reports, not from the twin: a step's product
 * rate is its outlet liquid flow (the sum of its liquid pumps' current values; the volume
 * change of reaction is neglected) times the product concentration its inline analyser
 * measures, times the molar mass; it is in spec while the measured conversion meets the
 * step's minimum. A feed is booked by volume. What a step draws from a surge tank is valued at
 * the tank's own contents, which the ledger tracks (libs/control's SurgeTankInventory): what
 * went in is the filling step's outlet as booked for its production, what went out is each
 * draw at the tank's mean concentration, and the level transmitter corrects the volume. The
 * upstream analyser's current value says what flows in now, not what a tank of hours-old
 * material holds.
 *
 * Nothing is dropped silently: a reading that is bad is held at its last good value and the
 * figure booked as `estimated`, saying so; one never seen good leaves the figure `unmeasured`
 * (0, with the reason) rather than booking product without its inputs.
 */
export class ProductionLedger {
  private readonly tanks = new Map<string, SurgeTankInventory>();
  /** How each tank's tracking began (the opening composition's source). */
  private readonly origins = new Map<string, string>();

  constructor(private readonly model: PlantModel) {}

  /** Product species of a step. */
  productOf(step: StepModel): string {
    return step.spec.product;
  }

  /** The analyser tag of a step's product concentration, if its analyser measures it. */
  productTag(step: StepModel): string | undefined {
    const analyser = step.spec.analyser;
    const measure = analyser?.measures.find(
      (m) => m.quantity === 'concentration' && m.species === step.spec.product,
    );
    return analyser && measure ? analyserMeasureTag(analyser.tag, measure) : undefined;
  }

  conversionTag(step: StepModel): string | undefined {
    const analyser = step.spec.analyser;
    return analyser?.measures.some((m) => m.quantity === 'conversion')
      ? analyserMeasureTag(analyser.tag, { quantity: 'conversion' })
      : undefined;
  }

  /** The tracked contents of a tank, or undefined before its first level reading. */
  tank(id: string): SurgeTankInventory | undefined {
    return this.tanks.get(id);
  }

  /**
   * Books `seconds` of the plant at the rates the readings give now: every step's actuals, the
   * tanks filled and drawn (steps in flow order: a tank is filled before it is drawn), then
   * each tank's volume matched to its level reading.
   */
  advance(readings: CellReadings, seconds: number, labels: LedgerLabels): LedgerInterval {
    const openings = this.model.tanks.flatMap((tank) => this.open(tank, readings, labels));
    const actuals = this.model.steps.map((step) =>
      this.stepActuals(step, readings, seconds, labels),
    );
    for (const tank of this.model.tanks) {
      const inventory = this.tanks.get(tank.id);
      const level = readings.good(tankLevelTag(tank.id));
      if (!inventory || level === undefined || level < 0) continue;
      const filler = this.model.steps[tank.fillingStep]!;
      const concentration = this.tankConcentration(tank, readings);
      inventory.reconcile(
        level,
        concentration && { lot: labels.fill(filler), concentration: concentration.value },
      );
    }
    return { actuals, openings };
  }

  /**
   * Relabels what every tracked tank holds as `lot(tank)` (an order's opening inventory: it
   * was made before the order) and says what that is.
   */
  allocate(lot: (tank: TankModel) => string): TankOpening[] {
    return this.model.tanks.flatMap((tank) => {
      const inventory = this.tanks.get(tank.id);
      if (!inventory) return [];
      inventory.relabel(lot(tank));
      return [this.opening(tank, inventory, lot(tank), 'at the start of the order')];
    });
  }

  /** Begins tracking a tank at its first good level reading, at the best composition known. */
  private open(tank: TankModel, readings: CellReadings, labels: LedgerLabels): TankOpening[] {
    if (this.tanks.has(tank.id)) return [];
    const level = readings.good(tankLevelTag(tank.id));
    if (level === undefined || level < 0) return [];
    const concentration = this.tankConcentration(tank, readings);
    const inventory = new SurgeTankInventory(tank.id);
    const grams = level * concentration.value;
    // Assumed, not measured: nobody sampled the tank itself.
    inventory.fill(labels.opening(tank), level, grams, grams);
    this.tanks.set(tank.id, inventory);
    this.origins.set(tank.id, concentration.note ?? '');
    return [this.opening(tank, inventory, labels.opening(tank), 'when tracking began')];
  }

  private opening(
    tank: TankModel,
    inventory: SurgeTankInventory,
    lot: string,
    when: string,
  ): TankOpening {
    const filler = this.model.steps[tank.fillingStep]!;
    const material = filler.spec.product;
    const { volume, grams, estimatedGrams } = inventory;
    const concentration = volume > 0 ? grams / volume / this.molarMass(material) : 0;
    return {
      tank: tank.id,
      step: filler.id,
      material,
      lot,
      volume,
      grams,
      estimated: estimatedGrams,
      note:
        `${tank.id} ${when}: ${volume.toFixed(3)} L (${tankLevelTag(tank.id)}) holding ` +
        `${grams.toFixed(2)} g ${material} (${concentration.toFixed(4)} mol/L), ` +
        `${estimatedGrams.toFixed(2)} g of it estimated; tracking began at ${this.origins.get(tank.id)}`,
    };
  }

  /**
   * The best estimate of what a tank's filler puts in it, g/L, for contents nobody measured
   * (a tank's opening inventory, a level that rose unbooked): the filler's analyser (its
   * latest good value: the tank holds the filler's outlet, and the analyser is the only
   * measurement of it), else the recipe's nominal steady state.
   */
  private tankConcentration(tank: TankModel, readings: CellReadings): Value {
    const filler = this.model.steps[tank.fillingStep]!;
    const material = filler.spec.product;
    const molarMass = this.molarMass(material);
    const measured = this.concentration(filler, readings);
    if (measured.basis !== 'unmeasured')
      return {
        value: measured.value * molarMass,
        basis: 'estimated',
        note: `${this.productTag(filler)} = ${measured.value.toFixed(4)} mol/L (the filler's analyser${measured.basis === 'estimated' ? ', last good value' : ''})`,
      };
    const steady = nominalSteadyState(this.model).steps[filler.index]?.outlet[material] ?? 0;
    return {
      value: steady * molarMass,
      basis: 'estimated',
      note: `${steady.toFixed(4)} mol/L (the recipe's steady state: no ${this.productTag(filler) ?? 'analyser'} value yet)`,
    };
  }

  private stepActuals(
    step: StepModel,
    readings: CellReadings,
    seconds: number,
    labels: LedgerLabels,
  ): StepActuals {
    const material = this.productOf(step);
    const flows = step.inlets.map((inlet) => held(readings, currentValueTag(inlet.pump), 'mL/min'));
    const inputs: StepInput[] = step.inlets.flatMap((inlet, k): StepInput[] => {
      const flow = flows[k]!;
      const volume = (flow.value / 60) * seconds; // mL (or NmL) over the interval
      if (inlet.source === 'feed') {
        const feed = this.model.feeds[inlet.sourceIndex]!;
        const quantity = flow.basis === 'unmeasured' ? 0 : volume;
        const unit = inlet.gas ? 'NmL' : 'mL';
        return [
          {
            kind: 'feed',
            source: feed.id,
            lot: feed.id,
            material: feed.id,
            quantity,
            unit,
            estimated: flow.basis === 'estimated' ? quantity : 0,
            basis: flow.basis,
            ...(flow.note ? { note: flow.note } : {}),
            keyMoles: keyReactantMoles(this.model, step, { material: feed.id, quantity, unit }),
          },
        ];
      }
      return this.draw(step, inlet.sourceIndex, flow, volume / 1000, readings);
    });

    const liquid = step.inlets.reduce(
      (sum, inlet, k) => (inlet.gas ? sum : sum + flows[k]!.value),
      0,
    );
    const liquidFlows = flows.filter((_, k) => !step.inlets[k]!.gas);
    const volume = ((liquid / 60) * seconds) / 1000; // L over the interval
    const badFlow = liquidFlows.find((f) => f.basis === 'unmeasured');
    const concentration = this.concentration(step, readings);
    let actuals: StepActuals;
    if (badFlow || (volume > 0 && concentration.basis === 'unmeasured')) {
      const unmeasured = badFlow?.note ?? concentration.note!;
      actuals = {
        step: step.id,
        material,
        produced: 0,
        inSpec: 0,
        estimated: 0,
        basis: 'unmeasured',
        note: unmeasured,
        unmeasured,
        keyRequired: 0,
        inputs,
      };
    } else {
      const produced = volume * concentration.value * this.molarMass(material);
      const notes = [...liquidFlows, concentration]
        .filter((v) => v.basis === 'estimated' && volume > 0)
        .map((v) => v.note!);
      const conversionTag = this.conversionTag(step);
      const conversion = conversionTag ? readings.good(conversionTag) : undefined;
      // In spec only on a measured concentration and conversion: a held value is no evidence.
      const inSpec =
        concentration.basis === 'measured' &&
        conversion !== undefined &&
        conversion >= step.minConversion;
      actuals = {
        step: step.id,
        material,
        produced,
        inSpec: inSpec ? produced : 0,
        estimated: notes.length > 0 ? produced : 0,
        basis: notes.length > 0 ? 'estimated' : 'measured',
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
        keyRequired: keyRequiredMoles(this.model, step, produced),
        inputs,
      };
    }
    this.fill(step, actuals, badFlow ? undefined : volume, labels);
    return actuals;
  }

  /** The step's outlet into its tank: the volume, and the grams booked as its production. */
  private fill(
    step: StepModel,
    actuals: StepActuals,
    volume: number | undefined,
    labels: LedgerLabels,
  ): void {
    const tank = this.model.tanks[step.outletTank];
    const inventory = tank && this.tanks.get(tank.id);
    if (!tank || !inventory || volume === undefined || volume <= 0) return;
    if (actuals.basis !== 'unmeasured') {
      inventory.fill(labels.fill(step), volume, actuals.produced, actuals.estimated);
      return;
    }
    // The volume arrived, its content is unknown: like what the tank holds, estimated.
    const concentration = Number.isFinite(inventory.concentration) ? inventory.concentration : 0;
    inventory.fill(labels.fill(step), volume, volume * concentration, volume * concentration);
  }

  /** What a step drew from tank `index`: at the tank's contents, per lot of them. */
  private draw(
    step: StepModel,
    index: number,
    flow: Value,
    volume: number,
    readings: CellReadings,
  ): StepInput[] {
    const tank = this.model.tanks[index]!;
    const filler = this.model.steps[tank.fillingStep]!;
    const material = filler.spec.product;
    const base = { kind: 'tank' as const, source: tank.id, material, unit: 'g' as const };
    const keyMoles = (grams: number) =>
      keyReactantMoles(this.model, step, { material, quantity: grams, unit: 'g' });
    if (flow.basis === 'unmeasured')
      return [
        {
          ...base,
          lot: UNALLOCATED,
          quantity: 0,
          estimated: 0,
          basis: 'unmeasured',
          note: flow.note!,
          keyMoles: 0,
        },
      ];
    if (volume <= 0) return [];
    const inventory = this.tanks.get(tank.id);
    if (!inventory) {
      // No level reading yet: what the tank holds is unknown; the filler's analyser is the best guess.
      const estimate = this.concentration(filler, readings);
      const note = `${tank.id}'s contents not known yet (no ${tankLevelTag(tank.id)} reading)`;
      if (estimate.basis === 'unmeasured')
        return [
          {
            ...base,
            lot: UNALLOCATED,
            quantity: 0,
            estimated: 0,
            basis: 'unmeasured',
            note,
            keyMoles: 0,
          },
        ];
      const grams = volume * estimate.value * this.molarMass(material);
      return [
        {
          ...base,
          lot: UNALLOCATED,
          quantity: grams,
          estimated: grams,
          basis: 'estimated',
          note: `${note}: valued at ${this.productTag(filler)} ${estimate.value.toFixed(4)} mol/L`,
          keyMoles: keyMoles(grams),
        },
      ];
    }
    const drawn = inventory.draw(volume);
    const inputs: StepInput[] = drawn.portions.map((portion) => {
      const estimated = flow.basis === 'estimated' ? portion.grams : portion.estimatedGrams;
      const notes = [
        flow.basis === 'estimated' ? flow.note : undefined,
        portion.estimatedGrams > 0
          ? `${tank.id}'s contents partly estimated (tracking began at ${this.origins.get(tank.id)})`
          : undefined,
      ].filter(Boolean);
      return {
        ...base,
        lot: portion.lot,
        quantity: portion.grams,
        estimated,
        basis: estimated > 0 ? 'estimated' : 'measured',
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
        keyMoles: keyMoles(portion.grams),
      };
    });
    if (drawn.short > 1e-9)
      inputs.push({
        ...base,
        lot: UNALLOCATED,
        quantity: 0,
        estimated: 0,
        basis: 'unmeasured',
        note: `${tank.id} ran empty: the pumps drew ${(drawn.requested * 1000).toFixed(1)} mL, the tank held ${(drawn.volume * 1000).toFixed(1)} mL of it`,
        keyMoles: 0,
      });
    return inputs;
  }

  private concentration(step: StepModel, readings: CellReadings): Value {
    const tag = this.productTag(step);
    if (!tag)
      return {
        value: 0,
        basis: 'unmeasured',
        note: `${step.id}'s analyser measures no ${step.spec.product}`,
      };
    return held(readings, tag, 'mol/L');
  }

  private molarMass(species: string): number {
    const index = this.model.speciesIndex.get(species);
    if (index === undefined) throw new Error(`unknown species "${species}"`);
    return this.model.molarMass[index]!;
  }
}

/** The tag's good value; else its last good value, held; else nothing, and why. */
function held(readings: CellReadings, tag: string, unit: string): Value {
  const good = readings.good(tag);
  if (good !== undefined && good >= 0) return { value: good, basis: 'measured' };
  const last = readings.lastGood(tag);
  if (last && last.value >= 0)
    return {
      value: last.value,
      basis: 'estimated',
      note: `no good ${tag} reading: its last good value ${last.value.toPrecision(4)} ${unit}${Number.isFinite(last.at) ? ` (${new Date(last.at).toISOString()})` : ''} held`,
    };
  return { value: 0, basis: 'unmeasured', note: `no good ${tag} reading` };
}
