import { PlantModelError } from './plant-model.error';
import { RecipeError } from './recipe.error';
import type {
  AdsorptionSpec,
  FeedSpec,
  FluidSpec,
  InletSpec,
  ReactionSpec,
  ReverseRateSpec,
  ReactorSpec,
  Recipe,
  StepChoiceSpec,
  StepSpec,
  TankSpec,
} from './recipe.types';
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
  /**
   * A reversible reaction's reverse rate, k_r(T) · Π c_i^order_i subtracted from the forward
   * one: k_r = k/K at `tRef`, its activation energy Ea − ΔH (van 't Hoff).
   */
  reverse?: {
    /** (mol/L)^(1-m)/s at tRef, m the reverse's total order. */
    kRef: number;
    /** (Ea − ΔH)/R, K */
    eaOverR: number;
    orderSpecies: Int32Array;
    orders: Float64Array;
  };
  /**
   * Adsorption inhibition: the rate divided by (1 + Σ K_s(T)·c_s)^exponent, each K_s(T) =
   * kRef_s · exp(−eaOverR_s · (1/T − 1/tRef)) with eaOverR_s = ΔH_ads,s/R.
   */
  adsorption?: {
    species: Int32Array;
    /** L/mol at tRef */
    kRef: Float64Array;
    /** ΔH_ads/R, K */
    eaOverR: Float64Array;
    exponent: number;
  };
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
  /** K: no deactivation at or below it (0 when the recipe sets none). */
  onsetTemperature: number;
  /** m */
  particleDiameter: number;
  porosity: number;
}

export interface StepModel {
  id: string;
  index: number;
  /** The recipe's step, its `reactions` with those of the chosen options added. */
  spec: StepSpec;
  /** The option taken for each of the step's choices. */
  choices: Record<string, string>;
  /**
   * The analyser's calibration error: it reads truth × (1 + this) before drift and noise. 0 in
   * a compiled recipe (the twin); "the plant" of the reality gap draws one. @default 0
   */
  analyserCalibration?: number;
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

/** Density, heat capacity and viscosity in recipe units, defaults filled in. */
type Fluid = Required<FluidSpec>;

/** The plant-wide species order and fluid, which every feed and step is compiled against. */
interface PlantBasics {
  speciesIds: readonly string[];
  speciesIndex: ReadonlyMap<string, number>;
  plantFluid: Fluid;
}

/** What compiling one step needs from the plant around it. */
interface StepContext extends PlantBasics {
  reactionSpecs: ReadonlyMap<string, ReactionSpec>;
  feeds: readonly FeedModel[];
  feedIndex: ReadonlyMap<string, number>;
  tankIndex: ReadonlyMap<string, number>;
  /**
   * By tank index, the species that can reach the tank. The steps are compiled in flow order,
   * so a step that draws from a tank finds it already filled in by the step that fills it.
   */
  reachesTank: Set<number>[];
}

/** Per step, per choice, the option a run takes (`StepSpec.choices`). */
export type StepChoices = Record<string, Record<string, string>>;

export interface CompileOptions {
  /** Options of the steps' discrete conditions; a choice left out takes its default. */
  choices?: StepChoices;
}

/**
 * Compiles a validated recipe. Pure and cheap (microseconds): calibration recompiles freely.
 * An option that is not the recipe's is a PlantModelError('UNKNOWN_CHOICE') naming the ones it has.
 */
export function compilePlant(recipe: Recipe, options: CompileOptions = {}): PlantModel {
  checkChoices(recipe, options.choices ?? {});
  const speciesIds = recipe.species.map((s) => s.id);
  const speciesIndex = new Map(speciesIds.map((id, i) => [id, i]));
  const molarMass = Float64Array.from(recipe.species.map((s) => s.molarMass));
  const basics: PlantBasics = {
    speciesIds,
    speciesIndex,
    plantFluid: { ...DEFAULT_FLUID, ...recipe.fluid },
  };
  const feeds = recipe.feeds.map((feed, index) => compileFeed(feed, index, basics));
  const tankSpecs = recipe.tanks ?? [];
  const tanks = tankSpecs.map((tank, index) => compileTank(tank, index, recipe.steps));
  const context: StepContext = {
    ...basics,
    reactionSpecs: new Map(recipe.reactions.map((r) => [r.id, r])),
    feeds,
    feedIndex: new Map(feeds.map((f) => [f.id, f.index])),
    tankIndex: new Map(tankSpecs.map((t, i) => [t.id, i])),
    reachesTank: tankSpecs.map(() => new Set<number>()),
  };
  const steps = recipe.steps.map((spec, index) =>
    compileStep(spec, index, context, options.choices?.[spec.id] ?? {}),
  );
  return {
    recipe,
    speciesIds,
    molarMass,
    speciesIndex,
    feeds,
    tanks,
    steps,
    productIndex: speciesIndexOf(speciesIndex, recipe.product),
  };
}

/** The step with the given id; throws a clear error otherwise. */
export function stepById(model: PlantModel, stepId: string): StepModel {
  const step = model.steps.find((s) => s.id === stepId);
  if (!step) {
    throw new PlantModelError(
      'UNKNOWN_STEP',
      `unknown step "${stepId}"; the recipe has ${model.steps.map((s) => s.id).join(', ')}`,
    );
  }
  return step;
}

/** Index of a species in the plant-wide order. Only an unvalidated recipe names an unknown one. */
function speciesIndexOf(speciesIndex: ReadonlyMap<string, number>, id: string): number {
  const i = speciesIndex.get(id);
  if (i === undefined) {
    throw new RecipeError([
      { path: '', message: `unknown species "${id}" (validate the recipe first)` },
    ]);
  }
  return i;
}

function compileFeed(feed: FeedSpec, index: number, basics: PlantBasics): FeedModel {
  const concentrations = new Float64Array(basics.speciesIds.length);
  for (const [id, c] of Object.entries(feed.concentrations)) {
    concentrations[speciesIndexOf(basics.speciesIndex, id)] = c;
  }
  return {
    id: feed.id,
    index,
    gas: feed.phase === 'gas',
    concentrations,
    density: feed.density ?? basics.plantFluid.density,
    temperature: celsiusToKelvin(feed.temperature ?? 25),
    inventory: feed.inventory ?? Number.POSITIVE_INFINITY,
  };
}

function compileTank(tank: TankSpec, index: number, steps: readonly StepSpec[]): TankModel {
  return {
    id: tank.id,
    index,
    capacity: tank.capacity,
    initialLevel: tank.initialLevel ?? 0,
    minLevel: tank.minLevel ?? 0,
    maxLevel: tank.maxLevel ?? tank.capacity,
    fillingStep: steps.findIndex((s) => s.outletTank === tank.id),
  };
}

/** A step's choice by name; own entries only, so a name like "constructor" is no choice. */
export function stepChoice(step: StepSpec, name: string): StepChoiceSpec | undefined {
  return step.choices && Object.hasOwn(step.choices, name) ? step.choices[name] : undefined;
}

/** Whether `option` is one of the choice's options (own entries only). */
export function hasOption(choice: StepChoiceSpec, option: string): boolean {
  return Object.hasOwn(choice.options, option);
}

/**
 * The reactions a step runs with the given options of its choices (the default for a choice
 * left out): its own, then those its options bring, each once.
 */
export function stepReactions(step: StepSpec, picked: Record<string, string> = {}): string[] {
  const chosen = Object.entries(step.choices ?? {}).flatMap(([name, choice]) => {
    const option = picked[name] ?? choice.default;
    return hasOption(choice, option) ? choice.options[option]!.reactions : [];
  });
  return chosen.length > 0 ? [...new Set([...step.reactions, ...chosen])] : step.reactions;
}

function checkChoices(recipe: Recipe, choices: StepChoices): void {
  for (const [stepId, picked] of Object.entries(choices)) {
    const step = recipe.steps.find((s) => s.id === stepId);
    if (!step)
      throw new PlantModelError(
        'UNKNOWN_STEP',
        `choices: unknown step "${stepId}"; the recipe has ${recipe.steps.map((s) => s.id).join(', ')}`,
      );
    for (const [name, option] of Object.entries(picked)) {
      const choice = stepChoice(step, name);
      const names = Object.keys(step.choices ?? {});
      if (!choice)
        throw new PlantModelError(
          'UNKNOWN_CHOICE',
          `step ${stepId} has no choice "${name}"${names.length > 0 ? ` (it has ${names.join(', ')})` : ''}`,
        );
      if (!hasOption(choice, option))
        throw new PlantModelError(
          'UNKNOWN_CHOICE',
          `step ${stepId}, ${name}: no option "${option}" (${Object.keys(choice.options).join(', ')})`,
        );
    }
  }
}

/** Compiles one step, and records in `context.reachesTank` what it passes on to its outlet tank. */
function compileStep(
  recipeSpec: StepSpec,
  index: number,
  context: StepContext,
  picked: Record<string, string>,
): StepModel {
  const choices = Object.fromEntries(
    Object.entries(recipeSpec.choices ?? {}).map(([name, c]) => [name, picked[name] ?? c.default]),
  );
  // A reaction listed twice (by the step and an option) runs once; the loader reports it.
  const reactionIds = stepReactions(recipeSpec, choices);
  const spec: StepSpec =
    reactionIds === recipeSpec.reactions ? recipeSpec : { ...recipeSpec, reactions: reactionIds };
  const fluid: Fluid = { ...context.plantFluid, ...spec.fluid };
  const volumetricHeatCapacity = fluid.density * fluid.heatCapacity * 1000;
  const reactions = spec.reactions.map((id) =>
    compileReaction(reactionSpecOf(context.reactionSpecs, id), context.speciesIndex),
  );
  const keyIndex = speciesIndexOf(context.speciesIndex, spec.keyReactant);
  const productIndex = speciesIndexOf(context.speciesIndex, spec.product);
  const synthesis = synthesisOf(spec, context.reactionSpecs, volumetricHeatCapacity);
  const catalyst = compileCatalyst(spec.reactor);
  const reactorVolume = spec.reactor.volume / 1000;
  const inlets = spec.inlets.map((inlet) => compileInlet(inlet, context));
  const active = speciesReaching(inlets, reactions, context);
  const outletTank =
    spec.outletTank !== undefined ? (context.tankIndex.get(spec.outletTank) ?? -1) : -1;
  if (outletTank >= 0) active.forEach((i) => context.reachesTank[outletTank]?.add(i));

  return {
    id: spec.id,
    index,
    spec,
    choices,
    reactions,
    inlets,
    type: spec.reactor.type,
    reactorVolume,
    liquidVolume: catalyst ? reactorVolume * catalyst.porosity : reactorVolume,
    heatTransfer: spec.reactor.heatTransfer ?? 1,
    cells: spec.reactor.type === 'cstr' ? 1 : (spec.reactor.cells ?? 12),
    innerDiameter: (spec.reactor.innerDiameter ?? 1) / 1000,
    catalyst,
    density: fluid.density,
    volumetricHeatCapacity,
    viscosity: fluid.viscosity / 1000,
    keyIndex,
    productIndex,
    ...synthesis,
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
}

/** A reaction a step names. Only an unvalidated recipe names an unknown one. */
function reactionSpecOf(
  reactionSpecs: ReadonlyMap<string, ReactionSpec>,
  id: string,
): ReactionSpec {
  const reaction = reactionSpecs.get(id);
  if (!reaction) {
    throw new RecipeError([
      { path: '', message: `unknown reaction "${id}" (validate the recipe first)` },
    ]);
  }
  return reaction;
}

function compileReaction(
  r: ReactionSpec,
  speciesIndex: ReadonlyMap<string, number>,
): ReactionModel {
  const orderEntries = Object.entries(r.rateLaw.orders).filter(([, o]) => o !== 0);
  const stoichEntries = Object.entries(r.stoichiometry);
  const tRef = celsiusToKelvin(r.rateLaw.k.referenceTemperature);
  const eaOverR = (r.rateLaw.activationEnergy * 1000) / GAS_CONSTANT;
  const heatOfReaction = (r.heatOfReaction ?? 0) * 1000;
  const reverse = r.rateLaw.reverse;
  return {
    id: r.id,
    kRef: r.rateLaw.k.value,
    tRef,
    eaOverR,
    orderSpecies: Int32Array.from(orderEntries.map(([id]) => speciesIndexOf(speciesIndex, id))),
    orders: Float64Array.from(orderEntries.map(([, o]) => o)),
    ...(reverse
      ? {
          reverse: compileReverse(reverse, r, { tRef, eaOverR, heatOfReaction }, speciesIndex),
        }
      : {}),
    ...(r.rateLaw.adsorption
      ? { adsorption: compileAdsorption(r.rateLaw.adsorption, tRef, speciesIndex) }
      : {}),
    stoichSpecies: Int32Array.from(stoichEntries.map(([id]) => speciesIndexOf(speciesIndex, id))),
    stoich: Float64Array.from(stoichEntries.map(([, nu]) => nu)),
    heatOfReaction,
  };
}

/**
 * A constant known at `from` (K) taken to `to` (K) along exp(−E/R · 1/T): Arrhenius for a rate,
 * van 't Hoff for an equilibrium or adsorption constant (E/R = `eOverR`, K).
 */
function atTemperature(value: number, eOverR: number, from: number, to: number): number {
  return value * Math.exp(-eOverR * (1 / to - 1 / from));
}

/** Adsorption constants taken to the rate constant's reference temperature. */
function compileAdsorption(
  adsorption: AdsorptionSpec,
  tRef: number,
  speciesIndex: ReadonlyMap<string, number>,
): NonNullable<ReactionModel['adsorption']> {
  const entries = Object.entries(adsorption.species);
  const eaOverR = entries.map(([, s]) => ((s.enthalpy ?? 0) * 1000) / GAS_CONSTANT);
  return {
    species: Int32Array.from(entries.map(([id]) => speciesIndexOf(speciesIndex, id))),
    kRef: Float64Array.from(entries, ([, s], n) =>
      atTemperature(s.value, eaOverR[n]!, celsiusToKelvin(s.referenceTemperature), tRef),
    ),
    eaOverR: Float64Array.from(eaOverR),
    exponent: adsorption.exponent ?? 1,
  };
}

/**
 * The reverse rate of a reversible reaction: k_r = k/K, with K taken from its own reference
 * temperature to the forward constant's by van 't Hoff, and k_r's activation energy Ea − ΔH.
 */
function compileReverse(
  reverse: ReverseRateSpec,
  r: ReactionSpec,
  forward: { tRef: number; eaOverR: number; heatOfReaction: number },
  speciesIndex: ReadonlyMap<string, number>,
): NonNullable<ReactionModel['reverse']> {
  const heatOverR = forward.heatOfReaction / GAS_CONSTANT;
  const { value, referenceTemperature } = reverse.equilibriumConstant;
  const equilibrium = atTemperature(
    value,
    heatOverR,
    celsiusToKelvin(referenceTemperature),
    forward.tRef,
  );
  const products = Object.fromEntries(Object.entries(r.stoichiometry).filter(([, nu]) => nu > 0));
  const entries = Object.entries(reverse.orders ?? products).filter(([, o]) => o !== 0);
  return {
    kRef: r.rateLaw.k.value / equilibrium,
    eaOverR: forward.eaOverR - heatOverR,
    orderSpecies: Int32Array.from(entries.map(([id]) => speciesIndexOf(speciesIndex, id))),
    orders: Float64Array.from(entries.map(([, o]) => o)),
  };
}

/**
 * The step's synthesis reaction (the first that consumes the key reactant and makes the
 * product) and what follows from it: the yield factor and the adiabatic temperature rise.
 */
function synthesisOf(
  spec: StepSpec,
  reactionSpecs: ReadonlyMap<string, ReactionSpec>,
  volumetricHeatCapacity: number,
): Pick<StepModel, 'synthesisReaction' | 'yieldFactor' | 'adiabaticRisePerKey'> {
  const synthesisReaction = spec.reactions.findIndex((id) => {
    const st = reactionSpecs.get(id)?.stoichiometry ?? {};
    return (st[spec.keyReactant] ?? 0) < 0 && (st[spec.product] ?? 0) > 0;
  });
  const synthesis =
    synthesisReaction >= 0 ? reactionSpecs.get(spec.reactions[synthesisReaction] ?? '') : undefined;
  const synthesisHeat = -((synthesis?.heatOfReaction ?? 0) * 1000);
  const keyCoefficient = Math.abs(synthesis?.stoichiometry[spec.keyReactant] ?? 1);
  const yieldFactor = synthesis
    ? Math.abs(synthesis.stoichiometry[spec.keyReactant] ?? 1) /
      (synthesis.stoichiometry[spec.product] ?? 1)
    : 1;
  return {
    yieldFactor,
    synthesisReaction,
    adiabaticRisePerKey:
      synthesisHeat > 0 ? synthesisHeat / keyCoefficient / volumetricHeatCapacity : 0,
  };
}

/** The catalyst of a packed bed, defaults filled in; undefined for any other reactor. */
function compileCatalyst(reactor: ReactorSpec): CatalystModel | undefined {
  if (reactor.type !== 'packed-bed') return undefined;
  const spec = reactor.catalyst;
  return {
    initialActivity: spec?.initialActivity ?? 1,
    kdRef: spec?.deactivation?.rate.value ?? 0,
    tRef: celsiusToKelvin(spec?.deactivation?.rate.referenceTemperature ?? 25),
    edOverR: ((spec?.deactivation?.activationEnergy ?? 0) * 1000) / GAS_CONSTANT,
    order: spec?.deactivation?.order ?? 1,
    onsetTemperature:
      spec?.deactivation?.onsetTemperature === undefined
        ? 0
        : celsiusToKelvin(spec.deactivation.onsetTemperature),
    particleDiameter: (spec?.particleDiameter ?? 100) * 1e-6,
    porosity: spec?.porosity ?? 0.4,
  };
}

function compileInlet(inlet: InletSpec, context: StepContext): InletModel {
  const fromFeed = inlet.feed !== undefined;
  const feedIndex = context.feedIndex.get(inlet.feed ?? '') ?? -1;
  const gas = fromFeed && context.feeds[feedIndex]?.gas === true;
  return {
    pump: inlet.pump,
    source: fromFeed ? 'feed' : 'tank',
    sourceIndex: fromFeed ? feedIndex : (context.tankIndex.get(inlet.tank ?? '') ?? -1),
    gas,
    nominal: inlet.flow.nominal,
    min: inlet.flow.min,
    max: inlet.flow.max,
    // mL/min → L/s; NmL/min → mol/s
    toInternal: gas ? 1 / (60 * 1000 * NORMAL_MOLAR_VOLUME) : 1 / 60_000,
    timeConstant: inlet.timeConstant ?? 2,
  };
}

/**
 * Species that can be present in a step: those its feeds carry, those that reach the tanks it
 * draws from, and those its reactions make or consume.
 */
function speciesReaching(
  inlets: readonly InletModel[],
  reactions: readonly ReactionModel[],
  context: StepContext,
): Set<number> {
  const active = new Set<number>();
  for (const inlet of inlets) {
    if (inlet.source === 'feed') {
      context.feeds[inlet.sourceIndex]?.concentrations.forEach((c, i) => c > 0 && active.add(i));
    } else context.reachesTank[inlet.sourceIndex]?.forEach((i) => active.add(i));
  }
  for (const reaction of reactions) reaction.stoichSpecies.forEach((i) => active.add(i));
  return active;
}
