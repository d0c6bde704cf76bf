import { meanInterval, studentT975 } from './interval';

describe('meanInterval', () => {
  it('gives the Student t interval of a small sample', () => {
    // mean 3, s = √2.5, n = 5: t(0.975, 4) = 2.776
    const { mean, halfWidth, n } = meanInterval([1, 2, 3, 4, 5]);
    expect(mean).toBe(3);
    expect(n).toBe(5);
    expect(halfWidth).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 10);
  });

  it('has no interval below two values, and none of an empty sample', () => {
    expect(meanInterval([7])).toEqual({ mean: 7, halfWidth: Number.NaN, n: 1 });
    expect(meanInterval([]).mean).toBeNaN();
  });

  it('is zero wide for identical values', () => {
    expect(meanInterval([2, 2, 2]).halfWidth).toBe(0);
  });
});

describe('studentT975', () => {
  it('follows the table and tends to the normal quantile', () => {
    expect(studentT975(9)).toBe(2.262);
    expect(studentT975(60)).toBeCloseTo(2.0003, 3);
    expect(studentT975(1e6)).toBeCloseTo(1.96, 3);
    expect(studentT975(0)).toBeNaN();
  });
});
