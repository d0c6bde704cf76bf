import { CalibrationError } from './calibration.error';
import {
  describeNoise,
  measurementSigmas,
  noiseSigma,
  parseNoiseModel,
  parseSigmaOption,
} from './noise-model';

describe('noise model', () => {
  it('combines relative and absolute parts in quadrature', () => {
    expect(noiseSigma({ relative: 0.03, absolute: 0.004 }, 0.1)).toBeCloseTo(0.005, 15);
    expect(noiseSigma({}, 5)).toBe(0);
  });

  it.each([
    ['2%', { relative: 0.02 }],
    ['0.005', { absolute: 0.005 }],
    ['2% + 0.005', { relative: 0.02, absolute: 0.005 }],
    ['1e-3+0.5%', { absolute: 0.001, relative: 0.005 }],
  ])('parses %s', (text, model) => {
    expect(parseNoiseModel(text)).toEqual(model);
  });

  it.each(['', 'x', '-1%', '2%+', 'NaN'])('refuses "%s" naming the option', (text) => {
    expect(() => parseNoiseModel(text, '--noise')).toThrow(CalibrationError);
    expect(() => parseNoiseModel(text, '--noise')).toThrow(/^--noise: /);
  });

  it('parses per-quantity sigma lists with a default for the rest', () => {
    expect(parseSigmaOption('c:b=0.005, conversion=1%, 2%')).toEqual({
      'c:b': { absolute: 0.005 },
      conversion: { relative: 0.01 },
      '*': { relative: 0.02 },
    });
    expect(() => parseSigmaOption('purity=1%')).toThrow(
      'sigma: "purity" is not a measured quantity',
    );
    expect(parseSigmaOption('yield=1%')).toEqual({ yield: { relative: 0.01 } });
  });

  it('weights by default relative to each value, floored at 1% of the largest of its quantity', () => {
    const sigmas = measurementSigmas([
      { quantity: 'c:a', measured: 0.5 },
      { quantity: 'c:a', measured: 0 },
      { quantity: 'conversion', measured: 0.9 },
    ]);
    expect(sigmas[0]).toBeCloseTo(Math.hypot(0.5, 0.005), 15);
    expect(sigmas[1]).toBeCloseTo(0.005, 15);
    expect(sigmas[2]).toBeCloseTo(Math.hypot(0.9, 0.009), 15);
    expect(describeNoise(undefined, 'c:a')).toBe('relative to the value (floor 1% of the largest)');
  });

  it('uses a stated sigma per quantity, else the default entry', () => {
    const sigma = { 'c:a': { absolute: 0.01 }, '*': { relative: 0.1 } };
    expect(
      Array.from(
        measurementSigmas(
          [
            { quantity: 'c:a', measured: 0.5 },
            { quantity: 'c:b', measured: 0.2 },
          ],
          sigma,
        ),
      ),
    ).toEqual([0.01, 0.020000000000000004]);
    expect(describeNoise(sigma, 'c:a')).toBe('0.01 mol/L');
    expect(describeNoise({ conversion: { relative: 0.02, absolute: 0.01 } }, 'conversion')).toBe(
      '2% + 0.01',
    );
  });

  it('refuses a zero sigma rather than dividing by it', () => {
    expect(() =>
      measurementSigmas([{ quantity: 'c:a', measured: 0 }], { '*': { relative: 0.02 } }),
    ).toThrow(/σ of c:a is 0 .* give it an absolute part/);
  });
});
