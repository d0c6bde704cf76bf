import { orderQuantityProblem } from './order-quantity';

describe('orderQuantityProblem', () => {
  it('bounds the mass after unit conversion, 1 mg to 1 t in whole milligrams', () => {
    for (const [quantity, unit] of [
      [25, 'g'],
      [30.1, 'g'],
      [0.001, 'g'],
      [1_000_000, 'g'],
      [1_000, 'kg'],
      [0.000001, 'kg'],
      [1.234567, 'kg'],
    ] as const) {
      expect({ quantity, unit, problem: orderQuantityProblem(quantity, unit) }).toEqual({
        quantity,
        unit,
        problem: undefined,
      });
    }
    expect(orderQuantityProblem(5e-324, 'g')).toBe(
      'quantity must be 0.001 to 1000000 g (1 mg to 1 t)',
    );
    expect(orderQuantityProblem(1_000_000, 'kg')).toBe(
      'quantity must be 0.000001 to 1000 kg (1 mg to 1 t)',
    );
    expect(orderQuantityProblem(25.0001, 'g')).toMatch(/whole milligrams/);
    expect(orderQuantityProblem(0.0000015, 'kg')).toMatch(/whole milligrams/);
    expect(orderQuantityProblem(Number.NaN, 'g')).toMatch(/finite/);
    expect(orderQuantityProblem(25, 'lb')).toMatch(/unit must be one of g, kg/);
  });
});
