/**
 * Axes shared by the charts: the data's extent, a linear scale onto pixels, round ticks and
 * their labels. Written out rather than taken from d3-scale: d3's `ticks` picks its step by
 * a different rule (a target count with √2, √10, √50 thresholds), so the plots would move,
 * and its packages are ES modules only.
 */

/** Smallest and largest finite value; [0, 1] when there is none. */
export function extent(values: readonly number[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? [min, max] : [0, 1];
}

/** Maps [d0, d1] linearly onto [r0, r1] (pixels); a zero-width domain maps as if it were 1 wide. */
export function linearScale(
  [d0, d1]: readonly [number, number],
  [r0, r1]: readonly [number, number],
): (value: number) => number {
  const width = d1 - d0 || 1;
  const pixels = r1 - r0;
  return (value) => r0 + ((value - d0) / width) * pixels;
}

/**
 * Round ticks from lo to hi: multiples of the smallest step of 1, 2 or 5 × 10ⁿ that cuts the
 * range into at most `maxIntervals` parts.
 */
export function niceTicks(lo: number, hi: number, maxIntervals: number): number[] {
  const span = hi - lo || 1;
  const power = 10 ** Math.floor(Math.log10(span / maxIntervals));
  const step = ([1, 2, 5, 10].find((f) => span / (f * power) <= maxIntervals) ?? 10) * power;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step);
  // Counted, not accumulated: a step below the values' resolution cannot loop forever.
  for (let i = 0; i <= 20; i++) {
    const tick = (first + i) * step;
    if (tick > hi + 1e-9 * step) break;
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}

/** How a chart writes numbers: plain with so many significant digits, else exponential. */
export interface NumberFormat {
  significant: number;
  /** Magnitudes from 1e-3 up to (not including) this are written plain. */
  plainBelow: number;
  /** Digits after the point in exponential notation. */
  exponentDigits: number;
}

export function formatNumber(value: number, format: NumberFormat): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < format.plainBelow
    ? String(Number(value.toPrecision(format.significant)))
    : value.toExponential(format.exponentDigits);
}

/** Pixel coordinates as written into the SVG. */
export function px(value: number, digits = 2): string {
  return value.toFixed(digits);
}
