import { SeededRandom } from './seeded-random';

function draw(random: SeededRandom, count: number, next: (r: SeededRandom) => number): number[] {
  return Array.from({ length: count }, () => next(random));
}

describe('SeededRandom', () => {
  it('replays the same stream for the same seed, and another for another seed', () => {
    expect(draw(new SeededRandom(42), 50, (r) => r.uniform())).toEqual(
      draw(new SeededRandom(42), 50, (r) => r.uniform()),
    );
    expect(draw(new SeededRandom(43), 50, (r) => r.uniform())).not.toEqual(
      draw(new SeededRandom(42), 50, (r) => r.uniform()),
    );
  });

  it('uniform() lies in [0, 1) with mean 1/2 and variance 1/12', () => {
    const values = draw(new SeededRandom(1), 20_000, (r) => r.uniform());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
  });

  it('between(min, max) lies in [min, max)', () => {
    for (const x of draw(new SeededRandom(2), 1000, (r) => r.between(-3, 5))) {
      expect(x).toBeGreaterThanOrEqual(-3);
      expect(x).toBeLessThan(5);
    }
  });

  it('normal() has mean 0, variance 1 and symmetric tails', () => {
    const values = draw(new SeededRandom(3), 20_000, (r) => r.normal());
    const n = values.length;
    const mean = values.reduce((s, x) => s + x, 0) / n;
    const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(variance).toBeGreaterThan(0.96);
    expect(variance).toBeLessThan(1.04);
    const beyond2 = values.filter((x) => Math.abs(x) > 2).length / n; // 4.55 %
    expect(beyond2).toBeGreaterThan(0.04);
    expect(beyond2).toBeLessThan(0.051);
  });

  it('forks independent streams by label, the same for the same seed and label', () => {
    const a = new SeededRandom(7).fork('analyser:nitration');
    const b = new SeededRandom(7).fork('analyser:nitration');
    const c = new SeededRandom(7).fork('analyser:hydrogenation');
    const d = new SeededRandom(8).fork('analyser:nitration');
    const first = draw(a, 20, (r) => r.uniform());
    expect(draw(b, 20, (r) => r.uniform())).toEqual(first);
    expect(draw(c, 20, (r) => r.uniform())).not.toEqual(first);
    expect(draw(d, 20, (r) => r.uniform())).not.toEqual(first);
  });

  it('a fork does not advance its parent', () => {
    const parent = new SeededRandom(9);
    const reference = new SeededRandom(9);
    draw(parent.fork('x'), 10, (r) => r.uniform());
    expect(parent.uniform()).toBe(reference.uniform());
  });
});
