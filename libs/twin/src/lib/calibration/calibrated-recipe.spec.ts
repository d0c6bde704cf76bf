import { parse } from 'yaml';
import { type Recipe, validateRecipe } from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import {
  calibratedRecipeYaml,
  formatSignificant,
  intervalDigits,
  withCalibrationProvenance,
} from './calibrated-recipe';
import type { FittedParameter } from './calibration.types';

const ORIGINAL = `# A test plant
apiVersion: pipac/v1
kind: Recipe
metadata: { name: test-plant, version: '1' }
species:
  - { id: a, molarMass: 100 }
  - { id: b, molarMass: 100 }
feeds:
  - { id: feed, concentrations: { a: 1 } }
reactions:
  - id: a-to-b
    stoichiometry: { a: -1, b: 1 }
    rateLaw:
      k: { value: 0.01, referenceTemperature: 25 } # 1/s, guessed
      activationEnergy: 50 # kJ/mol
      orders: { a: 1 }
    provenance: { assumed: true, reason: a guess }
steps:
  - id: reaction
    reactions: [a-to-b]
    inlets: [{ pump: P-1, feed: feed, flow: { nominal: 1, min: 0, max: 10 } }]
    reactor: { type: pfr, volume: 10 }
    thermostat: { tag: TC-1, setpoint: { nominal: 25, min: 0, max: 90 } }
    backPressure: { tag: PCV-1, setpoint: { nominal: 2, min: 0, max: 8 } }
    keyReactant: a
    product: b
    limits: { maxTemperature: 120, maxPressure: 10 }
product: b
`;

const FITTED: FittedParameter[] = [
  {
    path: 'reactions.a-to-b.k',
    reaction: 'a-to-b',
    kind: 'k',
    unit: '1/s at 25 °C',
    initial: 0.01,
    value: 0.0130534582,
    standardError: 2.9e-5,
    confidenceInterval: [0.0129952, 0.013112],
    intervalScale: 'log',
  },
  {
    path: 'reactions.a-to-b.activationEnergy',
    reaction: 'a-to-b',
    kind: 'activationEnergy',
    unit: 'kJ/mol',
    initial: 50,
    value: 61.923691,
    standardError: 0.2,
    confidenceInterval: [61.516, 62.331],
    intervalScale: 'linear',
  },
  {
    path: 'reactions.a-to-b.orders.b',
    reaction: 'a-to-b',
    kind: 'order',
    species: 'b',
    unit: '-',
    initial: 0,
    value: 0.0123456789,
    standardError: 0.001,
    confidenceInterval: [0.0103, 0.0143],
    intervalScale: 'linear',
  },
];

function calibrated(recipe: Recipe): Recipe {
  const withValues: Recipe = {
    ...recipe,
    reactions: recipe.reactions.map((r) => ({
      ...r,
      rateLaw: {
        ...r.rateLaw,
        k: { ...r.rateLaw.k, value: FITTED[0]!.value },
        activationEnergy: FITTED[1]!.value,
        orders: { ...r.rateLaw.orders, b: FITTED[2]!.value },
      },
    })),
  };
  return withCalibrationProvenance(withValues, FITTED, {
    source: 'runs.csv',
    experiments: 12,
    measurements: 24,
    confidenceLevel: 0.95,
  });
}

describe('calibrated recipe', () => {
  it('says in the provenance where the values come from, with intervals, and what it replaced', () => {
    const recipe = calibrated(parse(ORIGINAL) as Recipe);
    expect(recipe.reactions[0]?.provenance).toEqual({
      source:
        'calibrated by pipac calibrate from runs.csv (12 experiments, 24 measurements): ' +
        'k = 0.013053 1/s at 25 °C, 95% CI [0.012995, 0.013112] (interval from ln k); ' +
        'activationEnergy = 61.924 kJ/mol, 95% CI [61.516, 62.331]; orders.b = 0.0123, 95% CI [0.0103, 0.0143]; ' +
        'before calibration: assumed (a guess)',
    });
  });

  it('edits the original YAML in place: only the fitted values and the provenance change', () => {
    const kAndEa = FITTED.slice(0, 2);
    const yaml = calibratedRecipeYaml(calibrated(parse(ORIGINAL) as Recipe), kAndEa, ORIGINAL);
    const before = ORIGINAL.split('\n');
    const after = yaml.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [line]));
    expect(changed).toEqual([
      '      k: { value: 0.0130535, referenceTemperature: 25 } # 1/s, guessed',
      '      activationEnergy: 61.9237 # kJ/mol',
      expect.stringMatching(
        /^ {4}provenance: \{ source: "calibrated by pipac calibrate from runs\.csv .*before calibration: assumed \(a guess\)" \}$/,
      ),
    ]);
    expect(validateRecipe(parse(yaml)).reactions[0]?.rateLaw.k.value).toBe(0.0130535);
  });

  it("replaces a block provenance and adds a missing one at the reaction's indentation", () => {
    const block = ORIGINAL.replace(
      '    provenance: { assumed: true, reason: a guess }\n',
      '    provenance:\n      assumed: true # for now\n      reason: a guess\n',
    );
    const blockYaml = calibratedRecipeYaml(
      calibrated(parse(block) as Recipe),
      FITTED.slice(0, 1),
      block,
    );
    expect(blockYaml).toMatch(
      /\n {4}provenance:\n {6}source: "calibrated by pipac calibrate[^\n]*"\n {0}steps:/,
    );
    const none = ORIGINAL.replace('    provenance: { assumed: true, reason: a guess }\n', '');
    const noneYaml = calibratedRecipeYaml(
      calibrated(parse(none) as Recipe),
      FITTED.slice(0, 1),
      none,
    );
    expect(noneYaml).toMatch(
      /\n {6}orders: \{ a: 1 \}\n {4}provenance: \{ source: "calibrated by pipac calibrate[^\n]*" \}\nsteps:/,
    );
    for (const text of [blockYaml, noneYaml])
      expect(validateRecipe(parse(text)).reactions[0]?.rateLaw.k.value).toBe(0.0130535);
  });

  it('falls back to re-rendering, keeping comments, where it cannot edit in place', () => {
    // orders.b is not in the original text: there is no value to replace.
    const yaml = calibratedRecipeYaml(calibrated(parse(ORIGINAL) as Recipe), FITTED, ORIGINAL);
    expect(yaml).toContain('# A test plant');
    expect(yaml).toContain('# 1/s, guessed');
    expect(yaml).toContain('orders: { a: 1, b: 0.0123457 }');
    const reparsed = validateRecipe(parse(yaml));
    expect(reparsed.reactions[0]?.provenance?.source).toMatch(
      /^calibrated by pipac calibrate from runs\.csv/,
    );
    expect(reparsed.steps).toEqual((parse(ORIGINAL) as Recipe).steps);
  });

  it('writes a plain YAML recipe when there is no original text', () => {
    const recipe = calibrated(oneStepRecipe());
    const reparsed = validateRecipe(parse(calibratedRecipeYaml(recipe, FITTED)));
    expect(reparsed.reactions[0]?.rateLaw.k.value).toBe(0.0130535);
    expect(reparsed.reactions[0]?.provenance?.source).toContain('calibrated by pipac calibrate');
  });

  it('formats numbers for people, with enough digits to keep an interval apart', () => {
    expect(formatSignificant(0.0130534582)).toBe('0.01305');
    expect(formatSignificant(61.923691, 3)).toBe('61.9');
    expect(formatSignificant(1.23456e-7)).toBe('1.235e-7');
    expect(formatSignificant(0)).toBe('0');
    expect(intervalDigits(0.0130534582, [0.0129952, 0.013112])).toBe(5);
    expect(intervalDigits(61.9, [50, 70])).toBe(3);
    expect(intervalDigits(1, [1, 1])).toBe(6);
  });
});
