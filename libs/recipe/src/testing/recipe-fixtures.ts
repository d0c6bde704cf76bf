import type { ReactionSpec, Recipe, StepSpec, TankSpec } from '../lib/recipe.types';

/** Options of the one-step test plant: A (+ B) → products in one reactor. */
export interface OneStepOptions {
  reactor?: Partial<StepSpec['reactor']>;
  reactions?: ReactionSpec[];
  /** mol/L of each species in the feed. @default { a: 1 } */
  feed?: Record<string, number>;
  /** mL/min @default 1 */
  flow?: number;
  /** °C @default 25 */
  temperature?: number;
  analyser?: StepSpec['analyser'];
}

/** First order A → B, k = 0.01 /s at 25 °C, Ea 50 kJ/mol, thermoneutral. */
export const FIRST_ORDER: ReactionSpec = {
  id: 'a-to-b',
  stoichiometry: { a: -1, b: 1 },
  rateLaw: { k: { value: 0.01, referenceTemperature: 25 }, activationEnergy: 50, orders: { a: 1 } },
  heatOfReaction: 0,
};

/** A + B → C, k = 0.01 L/(mol·s) at 25 °C, Ea 50 kJ/mol, thermoneutral. */
export const SECOND_ORDER: ReactionSpec = {
  id: 'a-plus-b',
  stoichiometry: { a: -1, b: -1, c: 1 },
  rateLaw: {
    k: { value: 0.01, referenceTemperature: 25 },
    activationEnergy: 50,
    orders: { a: 1, b: 1 },
  },
  heatOfReaction: 0,
};

/** The first-order reaction made exothermic: ΔH = −100 kJ/mol, so ΔTad = 25 K at 1 mol/L (ρc_p 4000 J/(L·K)). */
export const EXOTHERMIC: ReactionSpec = { ...FIRST_ORDER, id: 'a-to-b-exo', heatOfReaction: -100 };

/** A small plant for tests: species a, b, c, d (molar masses chosen so A + B → C balances). */
export function oneStepRecipe(options: OneStepOptions = {}): Recipe {
  const flow = options.flow ?? 1;
  const temperature = options.temperature ?? 25;
  return {
    apiVersion: 'pipac/v1',
    kind: 'Recipe',
    metadata: { name: 'test-plant', version: '1' },
    species: [
      { id: 'a', molarMass: 100 },
      { id: 'b', molarMass: 100 },
      { id: 'c', molarMass: 200 },
      { id: 'd', molarMass: 100 },
    ],
    feeds: [{ id: 'feed', concentrations: options.feed ?? { a: 1 }, temperature }],
    reactions: options.reactions ?? [FIRST_ORDER],
    steps: [
      {
        id: 'reaction',
        reactions: (options.reactions ?? [FIRST_ORDER]).map((r) => r.id),
        inlets: [{ pump: 'P-1', feed: 'feed', flow: { nominal: flow, min: 0, max: 100 } }],
        reactor: { type: 'pfr', volume: 10, cells: 20, heatTransfer: 1, ...options.reactor },
        thermostat: {
          tag: 'TC-1',
          setpoint: { nominal: temperature, min: -20, max: 150 },
          timeConstant: 30,
        },
        backPressure: { tag: 'PCV-1', setpoint: { nominal: 3, min: 1, max: 10 } },
        ...(options.analyser ? { analyser: options.analyser } : {}),
        keyReactant: 'a',
        product: (options.reactions?.[0] ?? FIRST_ORDER).stoichiometry['c'] ? 'c' : 'b',
        limits: { maxTemperature: 120, maxPressure: 20 },
      },
    ],
    product: (options.reactions?.[0] ?? FIRST_ORDER).stoichiometry['c'] ? 'c' : 'b',
  };
}

export interface TwoStepOptions {
  /** The first step (A → B by default), as for oneStepRecipe. */
  first?: OneStepOptions;
  /** Overrides of surge tank t1. */
  tank?: Partial<TankSpec>;
  /** Overrides of the second step, 'coupling'. */
  second?: Partial<StepSpec>;
  /** The second step's reaction. @default SECOND_ORDER */
  coupling?: ReactionSpec;
}

/**
 * Two steps joined by surge tank t1: the first (A → B, 1 mL/min of 1 M A) fills t1; the
 * second, 'coupling', draws t1 and a fresh feed of A (1 mL/min each) and runs A + B → C.
 * Every reaction balances by mass.
 */
export function twoStepRecipe(options: TwoStepOptions = {}): Recipe {
  const recipe = oneStepRecipe(options.first);
  const coupling = options.coupling ?? SECOND_ORDER;
  recipe.reactions.push(coupling);
  recipe.tanks = [
    {
      id: 't1',
      capacity: 0.03,
      initialLevel: 0.01,
      minLevel: 0.005,
      maxLevel: 0.025,
      ...options.tank,
    },
  ];
  const first = recipe.steps[0]!;
  first.outletTank = 't1';
  const second: StepSpec = {
    ...structuredClone(first),
    id: 'coupling',
    reactions: [coupling.id],
    inlets: [
      { pump: 'P-2', tank: 't1', flow: { nominal: 1, min: 0, max: 10 } },
      { pump: 'P-3', feed: 'feed', flow: { nominal: 1, min: 0, max: 10 } },
    ],
    thermostat: { tag: 'TC-2', setpoint: { nominal: 25, min: -20, max: 150 }, timeConstant: 30 },
    backPressure: { tag: 'PCV-2', setpoint: { nominal: 3, min: 1, max: 10 } },
    product: 'c',
    ...options.second,
  };
  delete second.outletTank;
  recipe.steps.push(second);
  recipe.product = 'c';
  return recipe;
}
