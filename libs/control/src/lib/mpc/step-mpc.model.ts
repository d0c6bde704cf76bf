import { kelvinToCelsius } from '@pipac/recipe';
import {
  solveStepOutlet,
  stepOutletFigures,
  type StepConditions,
  type StepSolution,
} from '@pipac/twin';
import { nominalSteadyState, type StepSpace } from '../step/step-space';

/**
 * The disturbances the MPC's model carries, all 0 at the recipe's nominal plant:
 * - `rate`: ln of the step's rate multiplier × catalyst activity (ageing, kinetic mismatch);
 * - `bias`: the analyser's relative calibration bias (results read truth × (1 + bias));
 * - `heatTransfer`: ln of the jacket's heat-transfer factor (fouling);
 * - `strength`: ln of the key reactant's concentration in its source (a weaker stock, a leaner tank).
 */
export const MPC_PARAMETERS = ['rate', 'bias', 'heatTransfer', 'strength'] as const;
export type MpcParameter = (typeof MPC_PARAMETERS)[number];
export type MpcParameters = Record<MpcParameter, number>;

export const NOMINAL_PARAMETERS: Readonly<MpcParameters> = Object.freeze({
  rate: 0,
  bias: 0,
  heatTransfer: 0,
  strength: 0,
});

/** What the model predicts at one operating point: the step's outlet at steady state. */
export interface StepPrediction {
  /** True conversion of the key reactant, 0..1. */
  conversion: number;
  /** Product made, mol/s (the solver's flow units × mol/L: only ratios matter). */
  product: number;
  /** Key reactant fed, same units. */
  keyFeed: number;
  /** °C */
  maxTemperature: number;
  /** The analyser's quantities as a perfect analyser would read them (no bias), in `quantities` order. */
  analyser: Float64Array;
}

/**
 * The static block of the MPC's Hammerstein model: the twin's tanks-in-series steady state of
 * one step (`solveStepOutlet`, cells, Newton per cell: 0.1–0.3 ms) at given setpoints and
 * disturbance parameters. What the controller may know of the plant: the recipe, and the surge
 * tanks at their nominal composition (no inlet analyser), scaled by the estimated strength.
 */
export class StepMpcModel {
  /** The analyser's quantities: 'conversion' or 'concentration:<species>'. */
  readonly quantities: string[];
  private readonly speciesOf: Int32Array;
  private readonly tankCompositions: Record<string, Record<string, number>>;
  private readonly keySource: { kind: 'feed' | 'tank'; id: string } | undefined;
  private solution: StepSolution | undefined;

  constructor(private readonly space: StepSpace) {
    const model = space.model;
    const measures = space.step.spec.analyser?.measures ?? [];
    this.quantities = measures.map((m) =>
      m.quantity === 'conversion' ? 'conversion' : `concentration:${m.species}`,
    );
    this.speciesOf = Int32Array.from(measures, (m) =>
      m.quantity === 'conversion' ? -1 : (model.speciesIndex.get(m.species ?? '') ?? -1),
    );
    const nominal = nominalSteadyState(model);
    this.tankCompositions = Object.fromEntries(
      model.tanks.map((tank) => [tank.id, nominal.steps[tank.fillingStep]!.outlet]),
    );
    const keyInlet = space.step.inlets.find((inlet) => space.keyPumps.has(inlet.pump));
    if (keyInlet)
      this.keySource =
        keyInlet.source === 'feed'
          ? { kind: 'feed', id: model.feeds[keyInlet.sourceIndex]!.id }
          : { kind: 'tank', id: model.tanks[keyInlet.sourceIndex]!.id };
  }

  /** The steady state at `setpoints` (manipulated order) under `parameters`. */
  predict(setpoints: ArrayLike<number>, parameters: Readonly<MpcParameters>): StepPrediction {
    const step = this.space.step;
    const solution = solveStepOutlet(
      this.space.model,
      step,
      this.conditions(setpoints, parameters),
      { model: 'cells' },
      this.solution,
    );
    this.solution = solution;
    const { inlet, outlet } = solution;
    const { conversion, product } = stepOutletFigures(step, solution);
    const analyser = Float64Array.from(this.speciesOf, (i) =>
      i < 0 ? conversion : outlet.concentrations[i]!,
    );
    return {
      conversion,
      product,
      keyFeed: inlet.flow * inlet.concentrations[step.keyIndex]!,
      maxTemperature: kelvinToCelsius(outlet.maxTemperature),
      analyser,
    };
  }

  private conditions(
    setpoints: ArrayLike<number>,
    parameters: Readonly<MpcParameters>,
  ): StepConditions {
    const flows: Record<string, number> = {};
    let jacketTemperature = this.space.step.thermostat.nominal;
    this.space.manipulated.forEach((m, i) => {
      // A pump at 0 (paused) is solved at a trickle: the model needs a residence time.
      if (m.kind === 'pump') flows[m.tag] = Math.max(setpoints[i]!, 1e-3 * m.nominal);
      else jacketTemperature = setpoints[i]!;
    });
    const strength = Math.exp(parameters.strength);
    const conditions: StepConditions = {
      flows,
      jacketTemperature,
      rateMultiplier: Math.exp(parameters.rate),
      heatTransferFactor: Math.exp(parameters.heatTransfer),
      tankCompositions: this.tankCompositions,
    };
    const key = this.space.step.spec.keyReactant;
    if (this.keySource?.kind === 'tank' && strength !== 1) {
      const tank = this.tankCompositions[this.keySource.id]!;
      conditions.tankCompositions = {
        ...this.tankCompositions,
        [this.keySource.id]: { ...tank, [key]: (tank[key] ?? 0) * strength },
      };
    } else if (this.keySource?.kind === 'feed' && strength !== 1) {
      const model = this.space.model;
      const feed = model.feeds.find((f) => f.id === this.keySource!.id)!;
      const record = Object.fromEntries(
        model.speciesIds.map((id, s) => [
          id,
          feed.concentrations[s]! * (id === key ? strength : 1),
        ]),
      );
      conditions.feedConcentrations = { [feed.id]: record };
    }
    return conditions;
  }
}
