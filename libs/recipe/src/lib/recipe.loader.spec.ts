import { join } from 'node:path';
import { oneStepRecipe } from '../testing/recipe-fixtures';
import { RecipeError, type RecipeIssue } from './recipe.error';
import { RECIPE_SCHEMA, loadRecipe, parseRecipe, validateRecipe } from './recipe.loader';
import type { Recipe, StepSpec } from './recipe.types';

const RECIPES = join(__dirname, '../../../../recipes');

/** A mutable deep copy of the one-step fixture, to break in one place per test. */
function fixture(): Recipe {
  return structuredClone(oneStepRecipe());
}

/** Loose view of a recipe for writing fields the types forbid. */
function loose(value: unknown): Record<string, unknown> {
  return value as Record<string, unknown>;
}

function step(recipe: Recipe): StepSpec {
  return recipe.steps[0]!;
}

/** The issues a document is refused with; fails the test when it is accepted. */
function issuesOf(document: unknown): readonly RecipeIssue[] {
  try {
    validateRecipe(document);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return (error as RecipeError).issues;
  }
  throw new Error('expected the recipe to be refused');
}

/** A two-step plant: A → B into tank t1, then A + B → C drawing t1 and a fresh feed of A. */
function twoStepRecipe(): Recipe {
  const recipe = fixture();
  recipe.reactions.push({
    id: 'a-plus-b',
    stoichiometry: { a: -1, b: -1, c: 1 },
    rateLaw: {
      k: { value: 0.01, referenceTemperature: 25 },
      activationEnergy: 50,
      orders: { a: 1, b: 1 },
    },
  });
  recipe.tanks = [{ id: 't1', capacity: 1 }];
  step(recipe).outletTank = 't1';
  recipe.steps.push({
    ...structuredClone(step(recipe)),
    id: 'coupling',
    reactions: ['a-plus-b'],
    inlets: [
      { pump: 'P-2', tank: 't1', flow: { nominal: 1, min: 0, max: 10 } },
      { pump: 'P-3', feed: 'feed', flow: { nominal: 1, min: 0, max: 10 } },
    ],
    thermostat: { tag: 'TC-2', setpoint: { nominal: 25, min: -20, max: 150 } },
    backPressure: { tag: 'PCV-2', setpoint: { nominal: 3, min: 1, max: 10 } },
    product: 'c',
    outletTank: undefined,
  });
  delete recipe.steps[1]!.outletTank;
  recipe.product = 'c';
  return recipe;
}

describe('recipe loader', () => {
  describe('shipped recipes', () => {
    it.each(['paracetamol', 'first-order-pfr', 'benchmark-5x4'])('%s.yaml validates', (name) => {
      const recipe = loadRecipe(join(RECIPES, `${name}.yaml`));
      expect(recipe.metadata.name).toBe(name);
      expect(recipe.steps.length).toBeGreaterThan(0);
    });

    it('the paracetamol plant has three steps joined by two tanks', () => {
      const recipe = loadRecipe(join(RECIPES, 'paracetamol.yaml'));
      expect(recipe.steps.map((s) => s.id)).toEqual(['nitration', 'hydrogenation', 'acetylation']);
      expect(recipe.tanks?.map((t) => t.id)).toEqual(['tank-1', 'tank-2']);
      expect(recipe.product).toBe('paracetamol');
    });

    it('the test fixtures validate, including a two-step plant with a tank', () => {
      expect(() => validateRecipe(oneStepRecipe())).not.toThrow();
      expect(() => validateRecipe(twoStepRecipe())).not.toThrow();
    });

    it('JSON text parses as well as YAML', () => {
      const recipe = parseRecipe(JSON.stringify(oneStepRecipe()));
      expect(recipe).toEqual(oneStepRecipe());
    });

    it('exposes the schema it validates against', () => {
      expect(RECIPE_SCHEMA).toMatchObject({ title: 'pipac recipe' });
    });
  });

  describe('schema', () => {
    it('names a missing required field', () => {
      const recipe = fixture();
      delete loose(step(recipe))['keyReactant'];
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].keyReactant',
        message: 'is required',
      });
    });

    it('names a missing top-level field', () => {
      const recipe = fixture();
      delete loose(recipe)['product'];
      expect(issuesOf(recipe)).toContainEqual({ path: 'product', message: 'is required' });
    });

    it('names an unknown field', () => {
      const recipe = fixture();
      loose(step(recipe).reactor)['colour'] = 'red';
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactor.colour',
        message: 'is not a known field',
      });
    });

    it('names a field of the wrong type', () => {
      const recipe = fixture();
      loose(step(recipe).reactor)['volume'] = 'ten';
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactor.volume',
        message: 'must be number',
      });
    });

    it.each([-5, 0])('refuses a reactor volume of %s', (volume) => {
      const recipe = fixture();
      step(recipe).reactor.volume = volume;
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactor.volume',
        message: 'must be > 0',
      });
    });

    it('refuses an equilibrium constant that is not positive', () => {
      const recipe = fixture();
      recipe.reactions[0]!.rateLaw.reverse = {
        equilibriumConstant: { value: 0, referenceTemperature: 25 },
      };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].rateLaw.reverse.equilibriumConstant.value',
        message: 'must be > 0',
      });
    });

    it('refuses a negative feed concentration, by species path', () => {
      const recipe = fixture();
      recipe.feeds[0]!.concentrations['a'] = -1;
      const issues = issuesOf(recipe);
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('feeds[feed].concentrations.a');
      expect(issues[0]!.message).toMatch(/>= 0/);
    });

    it('lists the allowed values of an enum', () => {
      const recipe = fixture();
      loose(step(recipe).reactor)['type'] = 'batch';
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactor.type',
        message: 'must be one of pfr, cstr, packed-bed',
      });
    });

    it('refuses an id that is not kebab case', () => {
      const recipe = fixture();
      recipe.species[0]!.id = 'Species A';
      expect(issuesOf(recipe).map((i) => i.path)).toContain('species[Species A].id');
    });

    it('refuses an inlet with neither a feed nor a tank', () => {
      const recipe = fixture();
      delete step(recipe).inlets[0]!.feed;
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[reaction].inlets[P-1]',
        message: 'give exactly one of: feed, tank',
      });
    });

    it('refuses an inlet with both a feed and a tank, saying why', () => {
      const recipe = twoStepRecipe();
      recipe.steps[1]!.inlets[0]!.feed = 'feed';
      const issues = issuesOf(recipe);
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0]!.path).toMatch(/^steps\[coupling\]\.inlets\[P-2\]/);
      expect(issues[0]!.message).toMatch(/feed|tank|one/);
    });

    it('refuses a concentration measurement without its species', () => {
      const recipe = fixture();
      step(recipe).analyser = {
        tag: 'AT-1',
        technique: 'uv',
        measures: [{ quantity: 'concentration' }],
        cadence: 10,
        deadTime: 5,
      };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].analyser.measures[0].species',
        message: 'is required',
      });
    });

    it('refuses a document that is not an object', () => {
      expect(issuesOf('just a string')).toContainEqual({ path: '', message: 'must be object' });
      expect(issuesOf(null).length).toBeGreaterThan(0);
    });
  });

  describe('consistency', () => {
    it('names an unknown species in a stoichiometry', () => {
      const recipe = fixture();
      recipe.reactions[0]!.stoichiometry['x'] = 1;
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].stoichiometry.x',
        message: 'unknown species "x"',
      });
    });

    it('names an unknown species in the reaction orders', () => {
      const recipe = fixture();
      recipe.reactions[0]!.rateLaw.orders['y'] = 1;
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].rateLaw.orders.y',
        message: 'unknown species "y"',
      });
    });

    it('names an unknown species in the reverse orders of a reversible reaction', () => {
      const recipe = fixture();
      recipe.reactions[0]!.rateLaw.reverse = {
        equilibriumConstant: { value: 2, referenceTemperature: 25 },
        orders: { w: 1 },
      };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].rateLaw.reverse.orders.w',
        message: 'unknown species "w"',
      });
    });

    it('names an unknown adsorbing species', () => {
      const recipe = fixture();
      recipe.reactions[0]!.rateLaw.adsorption = {
        species: { v: { value: 1, referenceTemperature: 25 } },
      };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].rateLaw.adsorption.species.v',
        message: 'unknown species "v"',
      });
    });

    it('checks a step choice: its default among its options, its reactions known, some reaction to run', () => {
      const recipe = fixture();
      step(recipe).reactions = [];
      step(recipe).choices = {
        catalyst: { default: 'pt', options: { pd: { reactions: ['a-to-b', 'nope'] } } },
      };
      expect(issuesOf(recipe)).toEqual(
        expect.arrayContaining([
          {
            path: 'steps[reaction].choices.catalyst.default',
            message: '"pt" is not one of its options (pd)',
          },
          {
            path: 'steps[reaction].choices.catalyst.options.pd.reactions',
            message: 'unknown reaction "nope"',
          },
          {
            path: 'steps[reaction].reactions',
            message: 'the step runs no reaction (none listed, none chosen by default)',
          },
        ]),
      );
    });

    it('refuses an option that brings a reaction the step runs anyway (it would run twice)', () => {
      const recipe = fixture();
      step(recipe).choices = {
        catalyst: { default: 'pd', options: { pd: { reactions: ['a-to-b'] } } },
      };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].choices.catalyst.options.pd.reactions',
        message: '"a-to-b" is one of the step\'s own reactions already: list it in one place',
      });
    });

    it('names an unknown species in a feed', () => {
      const recipe = fixture();
      recipe.feeds[0]!.concentrations['z'] = 1;
      expect(issuesOf(recipe)).toContainEqual({
        path: 'feeds[feed].concentrations.z',
        message: 'unknown species "z"',
      });
    });

    it('names an unknown key reactant, product and measured species', () => {
      const recipe = fixture();
      step(recipe).keyReactant = 'q';
      recipe.product = 'r';
      step(recipe).analyser = {
        tag: 'AT-1',
        technique: 'uv',
        measures: [{ quantity: 'concentration', species: 's' }],
        cadence: 10,
        deadTime: 5,
      };
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[reaction].keyReactant',
        message: 'unknown species "q"',
      });
      expect(issues).toContainEqual({ path: 'product', message: 'unknown species "r"' });
      expect(issues).toContainEqual({
        path: 'steps[reaction].analyser.measures[0].species',
        message: 'unknown species "s"',
      });
    });

    it('names an unknown reaction in a step', () => {
      const recipe = fixture();
      step(recipe).reactions.push('nope');
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactions',
        message: 'unknown reaction "nope"',
      });
    });

    it('names an unknown feed or tank of an inlet', () => {
      const recipe = fixture();
      step(recipe).inlets[0]!.feed = 'missing';
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].inlets[P-1].feed',
        message: 'unknown feed "missing"',
      });
    });

    it('refuses a reaction that does not balance by mass, with the imbalance', () => {
      const recipe = fixture();
      recipe.reactions[0]!.stoichiometry = { a: -1, c: 1 }; // 100 g/mol → 200 g/mol
      const issues = issuesOf(recipe);
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('reactions[a-to-b].stoichiometry');
      expect(issues[0]!.message).toMatch(/not mass-balanced.*100\.000 g\/mol/);
    });

    it('refuses a reaction without a product', () => {
      const recipe = fixture();
      recipe.reactions[0]!.stoichiometry = { a: -1, b: -1 };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'reactions[a-to-b].stoichiometry',
        message: 'needs at least one reactant (negative) and one product (positive)',
      });
    });

    it('accepts a reaction balanced within round-off of the molar masses', () => {
      const recipe = fixture();
      recipe.species[2]!.molarMass = 200.01; // A + B → C off by 0.005 %
      recipe.reactions[0] = {
        ...recipe.reactions[0]!,
        stoichiometry: { a: -1, b: -1, c: 1 },
        rateLaw: { ...recipe.reactions[0]!.rateLaw, orders: { a: 1, b: 1 } },
      };
      expect(() => validateRecipe(recipe)).not.toThrow();
    });

    it('names a nominal outside its engineering limits', () => {
      const recipe = fixture();
      step(recipe).inlets[0]!.flow.nominal = 200;
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].inlets[P-1].flow.nominal',
        message: '200 is outside the engineering limits [0, 100]',
      });
    });

    it('names a nominal below its engineering limits and a min above max', () => {
      const recipe = fixture();
      step(recipe).thermostat.setpoint.nominal = -40;
      step(recipe).backPressure.setpoint = { nominal: 3, min: 5, max: 4 };
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[reaction].thermostat.setpoint.nominal',
        message: '-40 is outside the engineering limits [-20, 150]',
      });
      expect(issues).toContainEqual({
        path: 'steps[reaction].backPressure.setpoint',
        message: 'min 5 is above max 4',
      });
    });

    it('refuses a negative minimum flow and a back-pressure range above maxPressure', () => {
      const recipe = fixture();
      step(recipe).inlets[0]!.flow.min = -1;
      step(recipe).backPressure.setpoint.max = 50;
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[reaction].inlets[P-1].flow.min',
        message: 'a flow cannot be negative',
      });
      expect(issues).toContainEqual({
        path: 'steps[reaction].backPressure.setpoint.max',
        message: "is above the step's maxPressure 20 bar",
      });
    });

    it.each([
      [
        'species',
        (r: Recipe) => r.species.push({ id: 'a', molarMass: 100 }),
        'species[a]',
        'duplicate id "a"',
      ],
      [
        'feeds',
        (r: Recipe) => r.feeds.push({ ...r.feeds[0]! }),
        'feeds[feed]',
        'duplicate id "feed"',
      ],
      [
        'reactions',
        (r: Recipe) => r.reactions.push({ ...r.reactions[0]! }),
        'reactions[a-to-b]',
        'duplicate id "a-to-b"',
      ],
    ])('names duplicate %s ids', (_kind, mutate, path, message) => {
      const recipe = fixture();
      mutate(recipe);
      expect(issuesOf(recipe)).toContainEqual({ path, message });
    });

    it('names duplicate step ids and device tags used twice', () => {
      const recipe = twoStepRecipe();
      recipe.steps[1]!.id = 'reaction';
      recipe.steps[1]!.thermostat.tag = 'TC-1';
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[reaction]',
        message: 'duplicate id "reaction"',
      });
      expect(issues).toContainEqual({ path: 'steps', message: 'device tag "TC-1" is used twice' });
    });

    it('names a tank that no step fills or drains', () => {
      const recipe = fixture();
      recipe.tanks = [{ id: 't1', capacity: 1 }];
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({ path: 'tanks[t1]', message: 'no step fills this tank' });
      expect(issues).toContainEqual({ path: 'tanks[t1]', message: 'no step draws from this tank' });
    });

    it('names a tank drawn before the step that fills it', () => {
      const recipe = twoStepRecipe();
      recipe.steps.reverse();
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'steps[coupling].inlets[P-2].tank',
        message: 'tank "t1" is not filled by an earlier step (list steps in flow order)',
      });
    });

    it('names a tank filled by two steps, and an unknown outlet tank', () => {
      const recipe = twoStepRecipe();
      recipe.steps[1]!.outletTank = 't1';
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[coupling].outletTank',
        message: 'tank "t1" is already filled by step "reaction"',
      });
      const other = twoStepRecipe();
      other.steps[1]!.outletTank = 'nowhere';
      expect(issuesOf(other)).toContainEqual({
        path: 'steps[coupling].outletTank',
        message: 'unknown tank "nowhere"',
      });
    });

    it('names tank levels beyond the capacity', () => {
      const recipe = twoStepRecipe();
      recipe.tanks = [{ id: 't1', capacity: 1, initialLevel: 2, maxLevel: 3, minLevel: 4 }];
      const issues = issuesOf(recipe);
      expect(issues).toContainEqual({
        path: 'tanks[t1].initialLevel',
        message: 'is above the capacity 1 L',
      });
      expect(issues).toContainEqual({
        path: 'tanks[t1].maxLevel',
        message: 'is above the capacity 1 L',
      });
      expect(issues).toContainEqual({ path: 'tanks[t1].minLevel', message: 'is above maxLevel' });
    });

    it('refuses a gas feed that is not one pure species', () => {
      const recipe = fixture();
      recipe.feeds[0]!.phase = 'gas';
      recipe.feeds[0]!.concentrations = { a: 0.5 };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'feeds[feed].concentrations',
        message: 'a gas feed is one pure species, written with the value 1',
      });
    });

    it('refuses a catalyst outside a packed bed', () => {
      const recipe = fixture();
      step(recipe).reactor.catalyst = { porosity: 0.4 };
      expect(issuesOf(recipe)).toContainEqual({
        path: 'steps[reaction].reactor.catalyst',
        message: 'only a packed-bed reactor holds a catalyst',
      });
    });

    it('reports every issue at once', () => {
      const recipe = fixture();
      recipe.feeds[0]!.concentrations['z'] = 1;
      step(recipe).reactions.push('nope');
      recipe.reactions[0]!.stoichiometry = { a: -1, c: 1 };
      expect(issuesOf(recipe)).toHaveLength(3);
    });
  });

  describe('errors', () => {
    it('is a typed, non-retriable error whose message lists each issue', () => {
      const recipe = fixture();
      step(recipe).reactions.push('nope');
      let caught: unknown;
      try {
        validateRecipe(recipe, 'plant.yaml');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RecipeError);
      const error = caught as RecipeError;
      expect(error.code).toBe('RECIPE_INVALID');
      expect(error.retriable).toBe(false);
      expect(error.source).toBe('plant.yaml');
      expect(error.name).toBe('RecipeError');
      expect(error.message).toContain('invalid recipe plant.yaml');
      expect(error.message).toContain('steps[reaction].reactions: unknown reaction "nope"');
    });

    it('refuses invalid YAML with the parser position', () => {
      let caught: unknown;
      try {
        parseRecipe('apiVersion: pipac/v1\nspecies: [a, b\n', 'broken.yaml');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RecipeError);
      const issues = (caught as RecipeError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('');
      expect(issues[0]!.message).toMatch(/^not valid YAML: .*line \d+/);
    });

    it('validates parsed YAML against the schema', () => {
      expect(() => parseRecipe('apiVersion: pipac/v1\nkind: Recipe\n')).toThrow(RecipeError);
    });

    it('refuses a file that cannot be read', () => {
      expect(() => loadRecipe(join(RECIPES, 'no-such-recipe.yaml'))).toThrow(/cannot read file/);
    });
  });
});
