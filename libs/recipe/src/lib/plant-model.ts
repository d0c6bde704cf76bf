import type { Recipe, StepSpec } from './recipe.types';
import { GAS_CONSTANT, NORMAL_MOLAR_VOLUME, celsiusToKelvin } from './units';

/**
 * A recipe compiled into flat numeric arrays in internal units, ready for the solvers:
 * concentrations mol/L, volumes L, flows L/s (gas: mol/s), temperatures K, time s,
 * energies J, heat capacities J/(L·K) (volumetric), pressures bar.
 */
export interface PlantModel {
  recipe: Recipe;
  /** Plant-wide species order; every concentration vector uses it. */
  speciesIds: string[];
  /** g/mol, by species index. */
  molarMass: Float64Array;
  speciesIndex: Map<string, number>;
  feeds: FeedModel[];
  tanks: TankModel[];
  steps: StepModel[];
  /** Index of the plant product species. */
  productIndex: number;
}

export interface FeedModel {
  id: string;
  index: number;
  gas: boolean;
  /** mol/L (liquid) or, for a gas, 1 at the species index. */
  concentrations: Float64Array;
  /** kg/L */
  density: number;
  /** K */
  temperature: number;
  /** L of liquid or NL of gas; Infinity when unlimited. */
  inventory: number;
}

export interface TankModel {
  id: string;
  index: number;
  /** L */
  capacity: number;
  initialLevel: number;
  minLevel: number;
  maxLevel: number;
  /** Index of the step that fills the tank. */
  fillingStep: number;
}

export interface InletModel {
  pump: string;
  source: 'feed' | 'tank';
  /** Feed or tank index. */
  sourceIndex: number;
  gas: boolean;
  /** Recipe units (mL/min or NmL/min). */
  nominal: number;
  min: number;
  max: number;
  /** Recipe flow units → internal (L/s, or mol/s for gas). */
  toInternal: number;
  /** s */
  timeConstant: number;
}

/** Reaction compiled for fast rate evaluation (sparse orders and stoichiometry). */
export interface ReactionModel {
  id: string;
  /** Rate constant at the reference temperature, (mol/L)^(1-n)/s. */
  kRef: number;
  /** K */
  tRef: number;
  /** Ea/R, K */
  eaOverR: number;
  /** Species indices with a non-zero order, and their orders. */
  orderSpecies: Int32Array;
  orders: Float64Array;
  /** Species indices with a non-zero coefficient, and the coefficients. */
  stoichSpecies: Int32Array;
  stoich: Float64Array;
  /** J/mol (negative: exothermic) */
  heatOfReaction: number;
}

export interface CatalystModel {
  initialActivity: number;
  /** 1/s at tRef */
  kdRef: number;
  tRef: number;
  edOverR: number;
  order: number;
  /** m */
  particleDiameter: number;
  porosity: number;
}

export interface StepModel {
  id: string;
  index: number;
  spec: StepSpec;
  reactions: ReactionModel[];
  inlets: InletModel[];
  type: 'pfr' | 'cstr' | 'packed-bed';
  /** Nominal reactor (or bed) volume, L. */
  reactorVolume: number;
  /** Liquid hold-up, L (bed porosity × volume for a packed bed). */
  liquidVolume: number;
  /** W/K */
  heatTransfer: number;
  cells: number;
  /** m */
  innerDiameter: number;
  catalyst: CatalystModel | undefined;
  /** kg/L */
  density: number;
  /** Volumetric heat capacity, J/(L·K). */
  volumetricHeatCapacity: number;
  /** Pa·s */
  viscosity: number;
  keyIndex: number;
  productIndex: number;
  /** |ν_key| / ν_product of the synthesis reaction (the first that consumes the key and makes the product). */
  yieldFactor: number;
  /** Index in `reactions` of the synthesis reaction, or -1. */
  synthesisReaction: number;
  /**
   * Adiabatic temperature rise per mol/L of key reactant through the synthesis reaction,
   * (−ΔH)/(|ν_key|·ρc_p), K·L/mol; 0 when it is not exothermic.
   */
  adiabaticRisePerKey: number;
  minConversion: number;
  thermostat: { tag: string; nominal: number; min: number; max: number; timeConstant: number };
  backPressure: { tag: string; nominal: number; min: number; max: number };
  /** K */
  maxTemperature: number;
  maxTechnicalTemperature: number;
  /** bar */
  maxPressure: number;
  outletTank: number;
  /**
   * Species that can be present in this step: those its feeds and upstream tanks can carry
   * and those its reactions make. Every other species stays exactly zero here, so the
   * dynamic model skips them.
   */
  activeSpecies: Int32Array;
}

const DEFAULT_FLUID = { density: 1.0, heatCapacity: 4.0, viscosity: 1.0 };

/** Compiles a validated recipe. Pure and cheap (microseconds): calibration recompiles freely. */
export function compilePlant(recipe: Recipe): PlantModel {
  const speciesIds = recipe.species.map((s) => s.id);
  const speciesIndex = new Map(speciesIds.map((id, i) => [id, i]));
  const n = speciesIds.length;
  const idx = (id: string): number => {
    const i = speciesIndex.get(id);
    if (i === undefined) throw new Error(`unknown species "${id}" (validate the recipe first)`);
    return i;
  };
  const molarMass = Float64Array.from(recipe.species.map((s) => s.molarMass));
  const plantFluid = { ...DEFAULT_FLUID, ...recipe.fluid };

  const feeds: FeedModel[] = recipe.feeds.map((feed, index) => {
    const concentrations = new Float64Array(n);
    for (const [id, c] of Object.entries(feed.concentrations)) concentrations[idx(id)] = c;
    return {
      id: feed.id,
      index,
      gas: feed.phase === 'gas',
      concentrations,
      density: feed.density ?? plantFluid.density,
      temperature: celsiusToKelvin(feed.temperature ?? 25),
      inventory: feed.inventory ?? Number.POSITIVE_INFINITY,
    };
  });
  const feedIndex = new Map(feeds.map((f) => [f.id, f.index]));

  const tankSpecs = recipe.tanks ?? [];
  const tankIndex = new Map(tankSpecs.map((t, i) => [t.id, i]));
  const tanks: TankModel[] = tankSpecs.map((tank, index) => ({
    id: tank.id,
    index,
    capacity: tank.capacity,
    initialLevel: tank.initialLevel ?? 0,
    minLevel: tank.minLevel ?? 0,
    maxLevel: tank.maxLevel ?? tank.capacity,
    fillingStep: recipe.steps.findIndex((s) => s.outletTank === tank.id),
  }));

  const reactionSpecs = new Map(recipe.reactions.map((r) => [r.id, r]));
  const reachesTank = tankSpecs.map(() => new Set<number>());
  const steps: StepModel[] = recipe.steps.map((spec, index) => {
    const fluid = { ...plantFluid, ...spec.fluid };
    const reactions: ReactionModel[] = spec.reactions.map((id) => {
      const r = reactionSpecs.get(id);
      if (!r) throw new Error(`unknown reaction "${id}" (validate the recipe first)`);
      const orderEntries = Object.entries(r.rateLaw.orders).filter(([, o]) => o !== 0);
      const stoichEntries = Object.entries(r.stoichiometry);
      return {
        id: r.id,
        kRef: r.rateLaw.k.value,
        tRef: celsiusToKelvin(r.rateLaw.k.referenceTemperature),
        eaOverR: (r.rateLaw.activationEnergy * 1000) / GAS_CONSTANT,
        orderSpecies: Int32Array.from(orderEntries.map(([id]) => idx(id))),
        orders: Float64Array.from(orderEntries.map(([, o]) => o)),
        stoichSpecies: Int32Array.from(stoichEntries.map(([id]) => idx(id))),
        stoich: Float64Array.from(stoichEntries.map(([, nu]) => nu)),
        heatOfReaction: (r.heatOfReaction ?? 0) * 1000,
      };
    });
    const keyIndex = idx(spec.keyReactant);
    const productIndex = idx(spec.product);
    const synthesisReaction = spec.reactions.findIndex((id) => {
      const st = reactionSpecs.get(id)?.stoichiometry ?? {};
      return (st[spec.keyReactant] ?? 0) < 0 && (st[spec.product] ?? 0) > 0;
    });
    const synthesis =
      synthesisReaction >= 0
        ? reactionSpecs.get(spec.reactions[synthesisReaction] ?? '')
        : undefined;
    const synthesisHeat = -((synthesis?.heatOfReaction ?? 0) * 1000);
    const keyCoefficient = Math.abs(synthesis?.stoichiometry[spec.keyReactant] ?? 1);
    const yieldFactor = synthesis
      ? Math.abs(synthesis.stoichiometry[spec.keyReactant] ?? 1) /
        (synthesis.stoichiometry[spec.product] ?? 1)
      : 1;

    const catalystSpec = spec.reactor.catalyst;
    const isBed = spec.reactor.type === 'packed-bed';
    const catalyst: CatalystModel | undefined = isBed
      ? {
          initialActivity: catalystSpec?.initialActivity ?? 1,
          kdRef: catalystSpec?.deactivation?.rate.value ?? 0,
          tRef: celsiusToKelvin(catalystSpec?.deactivation?.rate.referenceTemperature ?? 25),
          edOverR: ((catalystSpec?.deactivation?.activationEnergy ?? 0) * 1000) / GAS_CONSTANT,
          order: catalystSpec?.deactivation?.order ?? 1,
          particleDiameter: (catalystSpec?.particleDiameter ?? 100) * 1e-6,
          porosity: catalystSpec?.porosity ?? 0.4,
        }
      : undefined;
    const reactorVolume = spec.reactor.volume / 1000;

    const inlets: InletModel[] = spec.inlets.map((inlet) => {
      const fromFeed = inlet.feed !== undefined;
      const gas = fromFeed && feeds[feedIndex.get(inlet.feed ?? '') ?? -1]?.gas === true;
      return {
        pump: inlet.pump,
        source: fromFeed ? 'feed' : 'tank',
        sourceIndex: fromFeed
          ? (feedIndex.get(inlet.feed ?? '') ?? -1)
          : (tankIndex.get(inlet.tank ?? '') ?? -1),
        gas,
        nominal: inlet.flow.nominal,
        min: inlet.flow.min,
        max: inlet.flow.max,
        // mL/min → L/s; NmL/min → mol/s
        toInternal: gas ? 1 / (60 * 1000 * NORMAL_MOLAR_VOLUME) : 1 / 60_000,
        timeConstant: inlet.timeConstant ?? 2,
      };
    });

    const active = new Set<number>();
    for (const inlet of inlets) {
      if (inlet.source === 'feed') {
        feeds[inlet.sourceIndex]?.concentrations.forEach((c, i) => c > 0 && active.add(i));
      } else reachesTank[inlet.sourceIndex]?.forEach((i) => active.add(i));
    }
    for (const reaction of reactions) reaction.stoichSpecies.forEach((i) => active.add(i));
    const outletTank = spec.outletTank !== undefined ? (tankIndex.get(spec.outletTank) ?? -1) : -1;
    if (outletTank >= 0) active.forEach((i) => reachesTank[outletTank]?.add(i));

    return {
      id: spec.id,
      index,
      spec,
      reactions,
      inlets,
      type: spec.reactor.type,
      reactorVolume,
      liquidVolume: isBed ? reactorVolume * (catalyst?.porosity ?? 0.4) : reactorVolume,
      heatTransfer: spec.reactor.heatTransfer ?? 1,
      cells: spec.reactor.type === 'cstr' ? 1 : (spec.reactor.cells ?? 12),
      innerDiameter: (spec.reactor.innerDiameter ?? 1) / 1000,
      catalyst,
      density: fluid.density,
      volumetricHeatCapacity: fluid.density * fluid.heatCapacity * 1000,
      viscosity: fluid.viscosity / 1000,
      keyIndex,
      productIndex,
      yieldFactor,
      synthesisReaction,
      adiabaticRisePerKey:
        synthesisHeat > 0
          ? synthesisHeat / keyCoefficient / (fluid.density * fluid.heatCapacity * 1000)
          : 0,
      minConversion: spec.minConversion ?? 0.95,
      thermostat: {
        tag: spec.thermostat.tag,
        ...spec.thermostat.setpoint,
        timeConstant: spec.thermostat.timeConstant ?? 60,
      },
      backPressure: { tag: spec.backPressure.tag, ...spec.backPressure.setpoint },
      maxTemperature: celsiusToKelvin(spec.limits.maxTemperature),
      maxTechnicalTemperature: celsiusToKelvin(
        spec.limits.maxTechnicalTemperature ?? spec.limits.maxTemperature,
      ),
      maxPressure: spec.limits.maxPressure,
      outletTank,
      activeSpecies: Int32Array.from([...active].sort((a, b) => a - b)),
    };
  });

  return {
    recipe,
    speciesIds,
    molarMass,
    speciesIndex,
    feeds,
    tanks,
    steps,
    productIndex: idx(recipe.product),
  };
}

/** The step with the given id; throws a clear error otherwise. */
export function stepById(model: PlantModel, stepId: string): StepModel {
  const step = model.steps.find((s) => s.id === stepId);
  if (!step) {
    throw new Error(
      `unknown step "${stepId}"; the recipe has ${model.steps.map((s) => s.id).join(', ')}`,
    );
  }
  return step;
}
