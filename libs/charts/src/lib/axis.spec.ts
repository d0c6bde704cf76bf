import { extent, formatNumber, linearScale, niceTicks } from './axis';
import { escapeXml } from './svg-document';

describe('axis', () => {
  it('takes the extent of the finite values, [0, 1] when there are none', () => {
    expect(extent([3, Number.NaN, -1, 2])).toEqual([-1, 3]);
    expect(extent([Number.NaN])).toEqual([0, 1]);
  });

  it('maps a domain linearly onto pixels, top-down as well', () => {
    const y = linearScale([0, 10], [200, 100]);
    expect(y(0)).toBe(200);
    expect(y(5)).toBe(150);
    expect(y(10)).toBe(100);
  });

  it('puts round ticks at 1, 2 or 5 × 10ⁿ within the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.05, 1.05, 7.5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 100, 7.5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(5, 5, 5)).toEqual([5]);
  });

  it('writes numbers plain in range and exponential outside', () => {
    const format = { significant: 4, plainBelow: 1e4, exponentDigits: 1 };
    expect(formatNumber(0, format)).toBe('0');
    expect(formatNumber(0.123456, format)).toBe('0.1235');
    expect(formatNumber(12345, format)).toBe('1.2e+4');
    expect(formatNumber(0.0001, format)).toBe('1.0e-4');
  });

  it('escapes the five XML special characters', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
  });
});
