import { join } from 'node:path';
import { loadRecipe } from './recipe.loader';
import type { ReactionSpec } from './recipe.types';
import { oneStepRecipe } from '../testing/recipe-fixtures';
import { compilePlant, stepById } from './plant-model';
import { PlantModelError } from './plant-model.error';
import { RecipeError } from './recipe.error';
import { GAS_CONSTANT, NORMAL_MOLAR_VOLUME, celsiusToKelvin, kelvinToCelsius } from './units';

const RECIPES = join(__dirname, '../../../../recipes');

describe('compilePlant', () => {
  it('converts the recipe units to internal ones', () => {
    const model = compilePlant(oneStepRecipe());
    const step = model.steps[0]!;
    expect(model.speciesIds).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(model.molarMass)).toEqual([100, 100, 200, 100]);
    expect(step.reactorVolume).toBeCloseTo(0.01, 15); // 10 mL → L
    expect(step.liquidVolume).toBe(step.reactorVolume);
    expect(step.innerDiameter).toBeCloseTo(1e-3, 15); // default 1 mm → m
    expect(step.volumetricHeatCapacity).toBe(4000); // 1.0 kg/L × 4.0 kJ/(kg·K) → J/(L·K)
    expect(step.viscosity).toBeCloseTo(1e-3, 15); // mPa·s → Pa·s
    expect(step.inlets[0]!.toInternal * 60_000).toBeCloseTo(1, 15); // mL/min → L/s
    expect(step.maxTemperature).toBeCloseTo(celsiusToKelvin(120), 12);
    const reaction = step.reactions[0]!;
    expect(reaction.eaOverR).toBeCloseTo(50_000 / GAS_CONSTANT, 9);
    expect(reaction.tRef).toBeCloseTo(298.15, 12);
    expect(Array.from(reaction.orders)).toEqual([1]);
    expect(Array.from(reaction.stoich)).toEqual([-1, 1]);
    expect(model.feeds[0]!.inventory).toBe(Number.POSITIVE_INFINITY);
  });

  it('doses a gas in mol/s from NmL/min', () => {
    const model = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
    const inlet = stepById(model, 'hydrogenation').inlets.find((i) => i.pump === 'MFC-201')!;
    expect(inlet.gas).toBe(true);
    expect(inlet.toInternal * 60 * 1000 * NORMAL_MOLAR_VOLUME).toBeCloseTo(1, 14);
  });

  it('a packed bed holds porosity × volume of liquid and carries its catalyst', () => {
    const model = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
    const bed = stepById(model, 'hydrogenation');
    expect(bed.type).toBe('packed-bed');
    expect(bed.liquidVolume).toBeCloseTo(0.4 * 0.025, 15);
    expect(bed.catalyst).toMatchObject({
      initialActivity: 1,
      kdRef: 8e-6,
      order: 1,
      porosity: 0.4,
    });
    expect(bed.catalyst!.particleDiameter).toBeCloseTo(150e-6, 15);
    expect(stepById(model, 'nitration').catalyst).toBeUndefined();
  });

  it('a stirred tank is one cell; coils default to 12', () => {
    expect(
      compilePlant(oneStepRecipe({ reactor: { type: 'cstr', cells: 30 } })).steps[0]!.cells,
    ).toBe(1);
    const recipe = oneStepRecipe();
    delete recipe.steps[0]!.reactor.cells;
    expect(compilePlant(recipe).steps[0]!.cells).toBe(12);
  });

  it('finds the synthesis reaction and its yield factor', () => {
    const dimer: ReactionSpec = {
      id: 'dimer',
      stoichiometry: { a: -2, c: 1 },
      rateLaw: {
        k: { value: 0.01, referenceTemperature: 25 },
        activationEnergy: 50,
        orders: { a: 1 },
      },
    };
    const step = compilePlant(oneStepRecipe({ reactions: [dimer] })).steps[0]!;
    expect(step.synthesisReaction).toBe(0);
    expect(step.yieldFactor).toBe(2);
  });

  it('wires tanks to the steps that fill them, and marks the species each step can see', () => {
    const model = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
    expect(model.tanks.map((t) => [t.id, t.fillingStep])).toEqual([
      ['tank-1', 0],
      ['tank-2', 1],
    ]);
    expect(model.steps.map((s) => s.outletTank)).toEqual([0, 1, -1]);
    const names = (indices: Int32Array) => Array.from(indices, (i) => model.speciesIds[i]);
    expect(names(model.steps[0]!.activeSpecies)).not.toContain('paracetamol');
    expect(names(model.steps[2]!.activeSpecies)).toEqual(
      expect.arrayContaining(['phenol', '4-aminophenol', 'paracetamol', 'hydrogen']),
    );
  });

  it('runs the reactions of the chosen catalyst, the default unless told, and names what it lacks', () => {
    const slow: ReactionSpec = {
      id: 'on-pd',
      stoichiometry: { a: -1, b: 1 },
      rateLaw: {
        k: { value: 0.01, referenceTemperature: 25 },
        activationEnergy: 50,
        orders: { a: 1 },
      },
    };
    const fast: ReactionSpec = {
      ...slow,
      id: 'on-pt',
      rateLaw: { ...slow.rateLaw, k: { value: 0.03, referenceTemperature: 25 } },
    };
    const recipe = oneStepRecipe({ reactions: [slow, fast] });
    recipe.steps[0]!.reactions = [];
    recipe.steps[0]!.choices = {
      catalyst: {
        default: 'pd',
        options: { pd: { name: '5% Pd/C', reactions: ['on-pd'] }, pt: { reactions: ['on-pt'] } },
      },
    };
    const byDefault = compilePlant(recipe).steps[0]!;
    expect(byDefault.choices).toEqual({ catalyst: 'pd' });
    expect(byDefault.reactions.map((r) => r.id)).toEqual(['on-pd']);
    expect(byDefault.synthesisReaction).toBe(0);
    const onPt = compilePlant(recipe, { choices: { reaction: { catalyst: 'pt' } } }).steps[0]!;
    expect(onPt.choices).toEqual({ catalyst: 'pt' });
    expect(onPt.reactions.map((r) => r.kRef)).toEqual([0.03]);
    expect(() => compilePlant(recipe, { choices: { reaction: { catalyst: 'ni' } } })).toThrow(
      'step reaction, catalyst: no option "ni" (pd, pt)',
    );
    expect(() => compilePlant(recipe, { choices: { reaction: { solvent: 'x' } } })).toThrow(
      'step reaction has no choice "solvent" (it has catalyst)',
    );
    expect(() => compilePlant(recipe, { choices: { nope: {} } })).toThrow(/unknown step "nope"/);
    // Names an object has by inheritance are no choices and no options.
    expect(() => compilePlant(recipe, { choices: { reaction: { constructor: 'x' } } })).toThrow(
      'has no choice "constructor"',
    );
    expect(() => compilePlant(recipe, { choices: { reaction: { catalyst: 'toString' } } })).toThrow(
      'no option "toString"',
    );
  });

  it('names the steps when asked for an unknown one', () => {
    const model = compilePlant(oneStepRecipe());
    expect(stepById(model, 'reaction').id).toBe('reaction');
    expect(() => stepById(model, 'nope')).toThrow('unknown step "nope"; the recipe has reaction');
  });

  it('refuses a recipe that was not validated, naming the unknown species', () => {
    const recipe = oneStepRecipe();
    recipe.product = 'x';
    expect(() => compilePlant(recipe)).toThrow(/unknown species "x"/);
  });

  it('throws typed errors: RecipeError for an unvalidated recipe, UNKNOWN_STEP for a step it lacks', () => {
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const recipe = oneStepRecipe();
    recipe.steps[0]!.reactions = ['nope'];
    const invalid = thrown(() => compilePlant(recipe));
    expect(invalid).toBeInstanceOf(RecipeError);
    expect(invalid).toMatchObject({ code: 'RECIPE_INVALID', retriable: false });
    expect((invalid as Error).message).toMatch(/unknown reaction "nope"/);
    const unknownStep = thrown(() => stepById(compilePlant(oneStepRecipe()), 'nope'));
    expect(unknownStep).toBeInstanceOf(PlantModelError);
    expect(unknownStep).toMatchObject({ code: 'UNKNOWN_STEP', retriable: false });
  });
});

describe('units', () => {
  it('converts between Celsius and Kelvin', () => {
    expect(celsiusToKelvin(25)).toBeCloseTo(298.15, 12);
    expect(kelvinToCelsius(celsiusToKelvin(-40))).toBeCloseTo(-40, 12);
  });
});
