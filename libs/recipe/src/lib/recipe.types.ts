/**
 * The recipe: a declarative description of a multi-step continuous-flow plant.
 *
 * Units are the ones a flow chemist writes down (documented in docs/recipe.md):
 * concentrations mol/L, liquid flows mL/min, gas flows NmL/min (0 °C, 1.01325 bar),
 * volumes mL (reactors) and L (tanks, feed vessels), temperatures °C, pressures bar,
 * energies kJ/mol, times s. The compiler converts them to the internal SI-like set.
 */

/** Where a number came from: a citation, or an assumption with its reason. */
export interface Provenance {
  /** Literature or experiment the value comes from. */
  source?: string;
  /** True where the value is assumed, not measured or published. */
  assumed?: boolean;
  /** Why an assumed value was chosen. */
  reason?: string;
}

export interface SpeciesSpec {
  id: string;
  name?: string;
  /** g/mol */
  molarMass: number;
  /** Marks a species that is the solvent or another carrier; informational. */
  role?: 'reactant' | 'product' | 'intermediate' | 'by-product' | 'reagent' | 'inert';
}

export interface FluidSpec {
  /** kg/L @default 1.0 */
  density?: number;
  /** kJ/(kg·K) @default 4.0 */
  heatCapacity?: number;
  /** mPa·s @default 1.0 */
  viscosity?: number;
}

export interface FeedSpec {
  id: string;
  name?: string;
  /** 'liquid': a stock solution pumped by volume; 'gas': a pure gas dosed by a mass-flow controller. @default 'liquid' */
  phase?: 'liquid' | 'gas';
  /** mol/L for a liquid stock solution; for a gas, the single species it is made of with value 1. */
  concentrations: Record<string, number>;
  /** Solution density, kg/L; for E-factor. @default the plant fluid density */
  density?: number;
  /** Inlet temperature, °C. @default 25 */
  temperature?: number;
  /** Amount in the vessel at start: L of solution, or NL of gas. @default unlimited */
  inventory?: number;
  provenance?: Provenance;
}

export interface ArrheniusSpec {
  /** Rate constant at the reference temperature, (mol/L)^(1-n)/s with n the total order. */
  value: number;
  /** °C */
  referenceTemperature: number;
}

/**
 * The reverse of a reversible reaction. Its rate constant is k(T)/K(T), so at equilibrium
 * Π c_i^reverse.order_i / Π c_i^order_i = K: with elementary orders (the default) that is the
 * law of mass action, K = Π c_i^ν_i. K follows van 't Hoff with the reaction's heat,
 * K(T) = K_ref · exp(−ΔH/R · (1/T − 1/T_ref)), so the reverse activation energy is Ea − ΔH.
 */
export interface ReverseRateSpec {
  /** Equilibrium constant K_ref at its reference temperature, in (mol/L)^Σν. */
  equilibriumConstant: ArrheniusSpec;
  /** Orders of the reverse rate per species. @default the products' coefficients */
  orders?: Record<string, number>;
}

/**
 * Adsorption on the catalyst's sites: the rate (both directions of a reversible one) is divided
 * by (1 + Σ_s K_s(T)·c_s)^exponent, K_s(T) = K_s,ref · exp(−ΔH_ads,s/R · (1/T − 1/T_ref)).
 * Exponent 1 is a single-site surface reaction (r = k·c_A/(1 + K_A·c_A)), 2 a dual-site one
 * between two adsorbed species (r = k·c_A·c_B/(1 + K_A·c_A + K_B·c_B)²).
 */
export interface AdsorptionSpec {
  /** Per adsorbing species: K at its reference temperature, L/mol, and the heat of adsorption. */
  species: Record<string, AdsorptionConstantSpec>;
  /** @default 1 */
  exponent?: number;
}

export interface AdsorptionConstantSpec extends ArrheniusSpec {
  /** Heat of adsorption, kJ/mol (negative: exothermic, K falls as T rises). @default 0 */
  enthalpy?: number;
}

export interface ReactionSpec {
  id: string;
  name?: string;
  /** Signed stoichiometric coefficients: negative for reactants, positive for products. */
  stoichiometry: Record<string, number>;
  /**
   * Power-law rate r = k(T) Π c_i^order_i, mol/(L·s); a reversible reaction subtracts the
   * reverse rate, r = k(T) (Π c_i^order_i − Π c_i^reverse.order_i / K(T)).
   */
  rateLaw: {
    k: ArrheniusSpec;
    /** kJ/mol */
    activationEnergy: number;
    /** Reaction orders per species (any non-negative real number). */
    orders: Record<string, number>;
    /** A reversible reaction: its equilibrium and the reverse reaction's orders. */
    reverse?: ReverseRateSpec;
    /** A catalytic rate inhibited by adsorption (Langmuir–Hinshelwood–Hougen–Watson). */
    adsorption?: AdsorptionSpec;
  };
  /** Heat of reaction per mole of reaction extent, kJ/mol (negative: exothermic). @default 0 */
  heatOfReaction?: number;
  provenance?: Provenance;
}

/** A manipulated variable: its nominal (recipe) value and its engineering limits. */
export interface ManipulatedSpec {
  nominal: number;
  min: number;
  max: number;
}

export interface InletSpec {
  /** Pump or mass-flow controller tag, e.g. P-101. */
  pump: string;
  /** Draw from a feed vessel... */
  feed?: string;
  /** ...or from an upstream surge tank. */
  tank?: string;
  /** mL/min for liquids, NmL/min for gases. */
  flow: ManipulatedSpec;
  /** Pump response time constant, s. @default 2 */
  timeConstant?: number;
}

export interface CatalystSpec {
  /** Activity at start of run, 0..1. @default 1 */
  initialActivity?: number;
  /** Deactivation: da/dt = -k_d(T) a^order. */
  deactivation?: {
    /** 1/s at the reference temperature */
    rate: ArrheniusSpec;
    /** kJ/mol @default 0 */
    activationEnergy?: number;
    /** @default 1 */
    order?: number;
    /**
     * °C: the catalyst deactivates only where hotter than this (sintering, leaching or coking
     * that sets in above a temperature); below it, k_d = 0. @default none: at any temperature
     */
    onsetTemperature?: number;
    provenance?: Provenance;
  };
  /** Particle diameter, µm, for the Ergun pressure drop. @default 100 */
  particleDiameter?: number;
  /** Bed void fraction, 0..1: the liquid hold-up is porosity × volume. @default 0.4 */
  porosity?: number;
}

export interface ReactorSpec {
  type: 'pfr' | 'cstr' | 'packed-bed';
  /** Reactor (or bed) volume, mL. */
  volume: number;
  /** Tube inner diameter, mm, for pressure drop. @default 1 */
  innerDiameter?: number;
  /** Overall heat transfer to the jacket, W/K. @default 1 */
  heatTransfer?: number;
  /**
   * Cells used for the dynamic model of a plug-flow or packed-bed reactor (tanks in series;
   * the Bodenstein number is about 2 × cells). @default 12
   */
  cells?: number;
  /** Packed bed only. */
  catalyst?: CatalystSpec;
}

export interface ThermostatSpec {
  tag: string;
  /** Jacket temperature setpoint, °C. */
  setpoint: ManipulatedSpec;
  /** First-order lag of the jacket temperature, s. @default 60 */
  timeConstant?: number;
}

export interface BackPressureSpec {
  tag: string;
  /** bar (gauge) */
  setpoint: ManipulatedSpec;
}

export interface AnalyserMeasurement {
  /** 'concentration' of a species (mol/L) or 'conversion' of the step's key reactant (0..1). */
  quantity: 'concentration' | 'conversion';
  species?: string;
}

export interface AnalyserSpec {
  tag: string;
  technique: 'nmr' | 'ir' | 'uv' | 'hplc' | 'raman';
  measures: AnalyserMeasurement[];
  /** s between results. */
  cadence: number;
  /** s from sampling to result (sample loop plus measurement time). */
  deadTime: number;
  noise?: {
    /** Standard deviation relative to the value. @default 0 */
    relative?: number;
    /** Standard deviation, absolute (mol/L or fraction). @default 0 */
    absolute?: number;
  };
}

export interface StepLimits {
  /** Highest allowed reactor content temperature, °C. */
  maxTemperature: number;
  /** Highest allowed reactor inlet pressure, bar. */
  maxPressure: number;
  /** Maximum temperature for technical reasons (boiling point at pressure, decomposition onset), °C, for MTSR. @default maxTemperature */
  maxTechnicalTemperature?: number;
}

export interface StepSpec {
  id: string;
  name?: string;
  reactions: string[];
  inlets: InletSpec[];
  reactor: ReactorSpec;
  thermostat: ThermostatSpec;
  backPressure: BackPressureSpec;
  analyser?: AnalyserSpec;
  /** Species whose conversion the step is judged by. */
  keyReactant: string;
  /** Species the step is meant to make. */
  product: string;
  /** Off-spec threshold: product is in spec while conversion ≥ this. @default 0.95 */
  minConversion?: number;
  limits: StepLimits;
  /** Surge tank that receives the outlet; none for the last step (product collection). */
  outletTank?: string;
  fluid?: FluidSpec;
  /**
   * Discrete conditions of the step, by name (`catalyst`, `reagent`): each option brings the
   * reactions that run with it, besides the step's own `reactions`. A run picks one option per
   * choice (`compilePlant`'s `choices`); without one, the default.
   */
  choices?: Record<string, StepChoiceSpec>;
}

/** A discrete condition: a catalyst or reagent among several, each with its own kinetics. */
export interface StepChoiceSpec {
  /** The option a run takes unless told otherwise. */
  default: string;
  options: Record<string, { name?: string; reactions: string[]; provenance?: Provenance }>;
}

export interface TankSpec {
  id: string;
  name?: string;
  /** L */
  capacity: number;
  /** L at start. @default 0 */
  initialLevel?: number;
  /** Allowed level band, L; leaving it is a violation. @default [0, capacity] */
  minLevel?: number;
  maxLevel?: number;
}

export interface Recipe {
  apiVersion: 'pipac/v1';
  kind: 'Recipe';
  metadata: {
    name: string;
    version: string;
    description?: string;
  };
  fluid?: FluidSpec;
  species: SpeciesSpec[];
  feeds: FeedSpec[];
  reactions: ReactionSpec[];
  steps: StepSpec[];
  tanks?: TankSpec[];
  /** The species the plant sells; its rate and purity are the plant's key figures. */
  product: string;
}
