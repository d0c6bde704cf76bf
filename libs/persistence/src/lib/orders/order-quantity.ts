/** Grams per unit of the units an order's quantity may be given in. */
export const ORDER_UNIT_GRAMS: Readonly<Record<string, number>> = { g: 1, kg: 1000 };

/**
 * What an order may ask for, as a mass in grams whatever its unit: at least 1 mg and at most
 * 1 t, in whole milligrams. The bound applies after conversion (1,000,000 kg is refused like
 * 1,000,000,000 g), and the resolution stops quantities like 5e-324 g, which the cell
 * "completes" before it makes anything.
 */
export const ORDER_QUANTITY = {
  /** @default 0.001 g (1 mg) */
  minGrams: 0.001,
  /** @default 1_000_000 g (1 t) */
  maxGrams: 1_000_000,
  /** Quantities are whole multiples of this. @default 0.001 g (1 mg) */
  resolutionGrams: 0.001,
} as const;

/** Why `quantity` `unit` is not an order quantity, or undefined when it is one. */
export function orderQuantityProblem(quantity: number, unit: string): string | undefined {
  const perUnit = ORDER_UNIT_GRAMS[unit];
  if (perUnit === undefined) {
    return `unit must be one of ${Object.keys(ORDER_UNIT_GRAMS).join(', ')}`;
  }
  if (typeof quantity !== 'number' || !Number.isFinite(quantity)) {
    return 'quantity must be a finite number';
  }
  const grams = quantity * perUnit;
  const { minGrams, maxGrams, resolutionGrams } = ORDER_QUANTITY;
  if (grams < minGrams || grams > maxGrams) {
    return `quantity must be ${minGrams / perUnit} to ${maxGrams / perUnit} ${unit} (1 mg to 1 t)`;
  }
  const steps = grams / resolutionGrams;
  // Relative tolerance: 30.1 g is 30100.000000000004 mg in binary floating point.
  if (Math.abs(steps - Math.round(steps)) > 1e-9 * Math.max(1, steps)) {
    return `quantity must be in whole milligrams (${resolutionGrams / perUnit} ${unit})`;
  }
  return undefined;
}
