import { analyserMeasureTag, currentValueTag } from '@pipac/contracts';
import type { PlantModel, StepModel } from '@pipac/twin';
import type { CellReadings } from './cell-readings';

/** What went into a step over an interval: a feed (mL or NmL of solution) or a tank (g of the upstream product). */
export interface StepInput {
  kind: 'feed' | 'tank';
  /** The feed's id, or the step whose product fills the tank. */
  source: string;
  material: string;
  quantity: number;
  unit: 'mL' | 'NmL' | 'g';
}

/** A step's material actuals over one interval, from the sensors. */
export interface StepActuals {
  step: string;
  material: string;
  /** g of product that left the reactor, and how much of it was in spec. */
  produced: number;
  inSpec: number;
  inputs: StepInput[];
  /** Why the product could not be measured, when it could not (no analyser value, bad flow). */
  unmeasured?: string;
}

/**
 * Production performance from what the plant reports, not from the twin: a step's product
 * rate is its outlet liquid flow (the sum of its liquid pumps' current values; the volume
 * change of reaction is neglected) times the product concentration its inline analyser
 * measures, times the molar mass. It is in spec while the measured conversion meets the
 * step's minimum. A feed is booked by volume; material drawn from a surge tank by the
 * upstream product's measured concentration (the tank holds the upstream step's outlet).
 */
export class ProductionLedger {
  constructor(private readonly model: PlantModel) {}

  /** Actuals of every step over `seconds`, at the rates the readings give now. */
  actuals(readings: CellReadings, seconds: number): StepActuals[] {
    return this.model.steps.map((step) => this.stepActuals(step, readings, seconds));
  }

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

  private stepActuals(step: StepModel, readings: CellReadings, seconds: number): StepActuals {
    const material = this.productOf(step);
    const flows = step.inlets.map((inlet) => readings.good(currentValueTag(inlet.pump)));
    const liquid = step.inlets.reduce(
      (sum, inlet, k) => (inlet.gas ? sum : sum + (flows[k] ?? 0)),
      0,
    );
    const inputs: StepInput[] = step.inlets.flatMap((inlet, k): StepInput[] => {
      const flow = flows[k];
      if (flow === undefined) return [];
      const volume = (flow / 60) * seconds; // mL (or NmL) over the interval
      if (inlet.source === 'feed') {
        const feed = this.model.feeds[inlet.sourceIndex]!;
        return [
          {
            kind: 'feed',
            source: feed.id,
            material: feed.id,
            quantity: volume,
            unit: inlet.gas ? 'NmL' : 'mL',
          },
        ];
      }
      const upstream = this.model.steps[this.model.tanks[inlet.sourceIndex]!.fillingStep]!;
      const concentration = this.concentration(upstream, readings);
      if (concentration === undefined) return [];
      const grams = (volume / 1000) * concentration * this.molarMass(upstream.spec.product);
      return [
        {
          kind: 'tank',
          source: upstream.id,
          material: upstream.spec.product,
          quantity: grams,
          unit: 'g',
        },
      ];
    });
    const concentration = this.concentration(step, readings);
    if (concentration === undefined || flows.some((f) => f === undefined)) {
      return {
        step: step.id,
        material,
        produced: 0,
        inSpec: 0,
        inputs,
        unmeasured:
          concentration === undefined
            ? `no good ${this.productTag(step) ?? 'product concentration'} reading`
            : 'a pump flow reading is missing or bad',
      };
    }
    const produced = (((liquid / 60) * seconds) / 1000) * concentration * this.molarMass(material);
    const conversionTag = this.conversionTag(step);
    const conversion = conversionTag ? readings.good(conversionTag) : undefined;
    const inSpec = conversion !== undefined && conversion >= step.minConversion;
    return { step: step.id, material, produced, inSpec: inSpec ? produced : 0, inputs };
  }

  private concentration(step: StepModel, readings: CellReadings): number | undefined {
    const tag = this.productTag(step);
    const value = tag ? readings.good(tag) : undefined;
    return value !== undefined && value >= 0 ? value : undefined;
  }

  private molarMass(species: string): number {
    const index = this.model.speciesIndex.get(species);
    if (index === undefined) throw new Error(`unknown species "${species}"`);
    return this.model.molarMass[index]!;
  }
}
