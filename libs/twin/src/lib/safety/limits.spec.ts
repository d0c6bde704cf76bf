import { compilePlant, celsiusToKelvin } from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import {
  limitState,
  stepLimitTable,
  stepLimitValues,
  stepLimitViolations,
  violation,
  type StepSafetyState,
} from './limits';

const step = compilePlant(oneStepRecipe()).steps[0]!; // maxTemperature 120 °C, maxPressure 20 bar

function state(overrides: Partial<StepSafetyState> = {}): StepSafetyState {
  return {
    maxTemperature: celsiusToKelvin(30),
    mtsr: celsiusToKelvin(30),
    pressure: 3.1,
    flows: [1],
    jacketTemperature: celsiusToKelvin(25),
    backPressure: 3,
    ...overrides,
  };
}

describe('engineering limits', () => {
  it('lists the monitored quantities of a step in a fixed order', () => {
    expect(stepLimitTable(step)).toEqual([
      { quantity: 'temperature', unit: '°C', min: -Infinity, max: 120 },
      { quantity: 'mtsr', unit: '°C', min: -Infinity, max: 120 }, // maxTechnicalTemperature defaults to maxTemperature
      { quantity: 'pressure', unit: 'bar', min: -Infinity, max: 20 },
      { quantity: 'flow P-1', unit: 'mL/min', min: 0, max: 100 },
      { quantity: 'jacket-temperature TC-1', unit: '°C', min: -20, max: 150 },
      { quantity: 'back-pressure PCV-1', unit: 'bar', min: 1, max: 10 },
    ]);
  });

  it('writes the values in table order, in recipe units', () => {
    const values = stepLimitValues(step, state(), new Float64Array(6));
    expect(values[0]).toBeCloseTo(30, 12);
    expect(values[1]).toBeCloseTo(30, 12);
    expect(Array.from(values.subarray(2))).toEqual([3.1, 1, expect.closeTo(25, 12) as number, 3]);
  });

  it('classifies a value below, inside or above its band; the band edges are inside', () => {
    const spec = { quantity: 'x', unit: 'u', min: 1, max: 2 };
    expect(limitState(spec, 0.5)).toBe(-1);
    expect(limitState(spec, 1)).toBe(0);
    expect(limitState(spec, 2)).toBe(0);
    expect(limitState(spec, 2.5)).toBe(1);
  });

  it('describes a violation with its value, limit, bound, unit and a message', () => {
    const spec = { quantity: 'jacket-temperature TC-1', unit: '°C', min: -20, max: 150 };
    expect(violation(spec, 160.12345, { step: 'reaction' })).toEqual({
      step: 'reaction',
      quantity: 'jacket-temperature TC-1',
      value: 160.12345,
      limit: 150,
      bound: 'upper',
      unit: '°C',
      message: 'reaction jacket-temperature TC-1 160.123 °C is above 150 °C',
    });
    expect(
      violation({ quantity: 'level', unit: 'L', min: 0.2, max: 1.8 }, 0.1, { tank: 'tank-1' }),
    ).toMatchObject({
      tank: 'tank-1',
      bound: 'lower',
      limit: 0.2,
      message: 'tank-1 level 0.1 L is below 0.2 L',
    });
  });

  it('reports nothing inside the limits and every quantity past them', () => {
    expect(stepLimitViolations(step, state())).toEqual([]);
    const past = stepLimitViolations(
      step,
      state({
        maxTemperature: celsiusToKelvin(130),
        mtsr: celsiusToKelvin(140),
        pressure: 25,
        flows: [-1],
        jacketTemperature: celsiusToKelvin(-30),
        backPressure: 12,
      }),
    );
    expect(past.map((v) => [v.quantity, v.bound])).toEqual([
      ['temperature', 'upper'],
      ['mtsr', 'upper'],
      ['pressure', 'upper'],
      ['flow P-1', 'lower'],
      ['jacket-temperature TC-1', 'lower'],
      ['back-pressure PCV-1', 'upper'],
    ]);
    expect(past.every((v) => v.step === 'reaction')).toBe(true);
  });
});
