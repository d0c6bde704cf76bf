/**
 * Fails unless |actual − expected| ≤ rtol·|expected| + atol (a NaN on either side fails too),
 * with a message that gives both values and the error. The specs' one tolerance check.
 */
export function expectClose(actual: number, expected: number, rtol: number, atol = 0): void {
  const error = Math.abs(actual - expected);
  const bound = rtol * Math.abs(expected) + atol;
  if (!(error <= bound)) {
    throw new Error(`expected ${actual} to be within ${bound} of ${expected} (error ${error})`);
  }
}
