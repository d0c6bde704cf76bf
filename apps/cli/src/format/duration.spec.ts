import { formatDuration, parseDuration } from './duration';
import { parseSeed } from './seed';

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(parseDuration('90', '--d')).toBe(90);
    expect(parseDuration('15m', '--d')).toBe(900);
    expect(parseDuration('1.5h', '--d')).toBe(5400);
    expect(parseDuration('2d', '--d')).toBe(172800);
  });

  it('refuses zero unless allowed, and then takes it in any unit', () => {
    expect(() => parseDuration('0h', '--d')).toThrow('--d: "0h" must be positive');
    for (const zero of ['0', '0s', '0m', '0min', '0h', '0.0d'])
      expect(parseDuration(zero, '--warm-up', { allowZero: true })).toBe(0);
    expect(() => parseDuration('-1', '--warm-up', { allowZero: true })).toThrow('not a duration');
  });
});

describe('parseSeed', () => {
  it('takes the signed 32-bit integers', () => {
    expect(parseSeed('7')).toBe(7);
    expect(parseSeed(' -2147483648 ')).toBe(-(2 ** 31));
    expect(parseSeed('2147483647')).toBe(2 ** 31 - 1);
    expect(Object.is(parseSeed('-0'), 0)).toBe(true);
  });

  it.each(['', ' ', '1.5', '1e3', '0x10', 'seven', '2147483648', '4294967297', '-2147483649'])(
    'refuses %j',
    (text) => {
      expect(() => parseSeed(text, '--seed')).toThrow(/^--seed: /);
    },
  );
});

describe('formatDuration', () => {
  it('formats durations for people', () => {
    expect([formatDuration(42), formatDuration(125), formatDuration(7380)]).toEqual([
      '42 s',
      '2 min 5 s',
      '2 h 3 min',
    ]);
  });
});
