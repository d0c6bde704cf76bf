/**
 * A parity plot (predicted against measured, one point per measurement, the y = x line for
 * reference) written as standalone SVG by hand: a few dozen elements need no plotting library,
 * and the file opens in any browser and embeds in reports. Each point carries its data in
 * `data-*` attributes and a `<title>` tooltip, so the plot is also inspectable as text.
 */
export interface ParityPoint {
  measured: number;
  predicted: number;
  /** Series: points are coloured and listed in the legend by quantity (`c:b`, `conversion`). */
  quantity: string;
  /** Shown in the tooltip, e.g. the experiment id. */
  label?: string;
}

export interface ParityPlotOptions {
  /** @default 'Parity plot' */
  title?: string;
  /** Second line under the title, e.g. the fit quality. */
  subtitle?: string;
  /** Axis unit text. @default 'mol/L or fraction' */
  unit?: string;
  /** Square plot area side, px. @default 440 */
  size?: number;
}

/** Okabe & Ito's colour-blind-safe palette. */
const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];
const MARGIN = { left: 78, right: 170, top: 70, bottom: 62 };

export function parityPlotSvg(
  points: readonly ParityPoint[],
  options: ParityPlotOptions = {},
): string {
  const size = options.size ?? 440;
  const width = MARGIN.left + size + MARGIN.right;
  const height = MARGIN.top + size + MARGIN.bottom;
  const finite = points.filter((p) => Number.isFinite(p.measured) && Number.isFinite(p.predicted));
  const [lo, hi] = domain(finite.flatMap((p) => [p.measured, p.predicted]));
  const x = (v: number) => MARGIN.left + ((v - lo) / (hi - lo)) * size;
  const y = (v: number) => MARGIN.top + size - ((v - lo) / (hi - lo)) * size;
  const quantities = [...new Set(points.map((p) => p.quantity))];
  const colour = (q: string) => PALETTE[quantities.indexOf(q) % PALETTE.length] ?? '#000000';
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title ?? 'Parity plot')}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    // A long title (a long file name) gets a smaller font rather than running off the picture.
    `<text x="${MARGIN.left}" y="28" font-size="${titleFontSize(options.title ?? 'Parity plot', width - MARGIN.left - 10)}" font-weight="bold">${escapeXml(options.title ?? 'Parity plot')}</text>`,
  );
  if (options.subtitle)
    out.push(
      `<text x="${MARGIN.left}" y="48" fill="#444444">${escapeXml(options.subtitle)}</text>`,
    );

  // Grid, ticks and labels: the same ticks on both axes, since both carry the same quantity.
  out.push('<g class="axes" stroke="#dddddd" stroke-width="1">');
  for (const tick of ticks(lo, hi)) {
    out.push(
      `<line x1="${fmt(x(tick))}" y1="${MARGIN.top}" x2="${fmt(x(tick))}" y2="${MARGIN.top + size}"/>`,
    );
    out.push(
      `<line x1="${MARGIN.left}" y1="${fmt(y(tick))}" x2="${MARGIN.left + size}" y2="${fmt(y(tick))}"/>`,
    );
  }
  out.push('</g>', '<g class="tick-labels" fill="#333333">');
  for (const tick of ticks(lo, hi)) {
    const label = escapeXml(tickLabel(tick));
    out.push(
      `<text x="${fmt(x(tick))}" y="${MARGIN.top + size + 18}" text-anchor="middle">${label}</text>`,
    );
    out.push(
      `<text x="${MARGIN.left - 8}" y="${fmt(y(tick) + 4)}" text-anchor="end">${label}</text>`,
    );
  }
  out.push('</g>');
  out.push(
    `<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${size}" height="${size}" fill="none" stroke="#333333"/>`,
  );
  const unit = escapeXml(options.unit ?? 'mol/L or fraction');
  out.push(
    `<text x="${MARGIN.left + size / 2}" y="${height - 18}" text-anchor="middle">measured (${unit})</text>`,
  );
  out.push(
    `<text x="20" y="${MARGIN.top + size / 2}" text-anchor="middle" transform="rotate(-90 20 ${MARGIN.top + size / 2})">predicted (${unit})</text>`,
  );
  out.push(
    `<line class="identity" x1="${fmt(x(lo))}" y1="${fmt(y(lo))}" x2="${fmt(x(hi))}" y2="${fmt(y(hi))}" stroke="#888888" stroke-dasharray="6 4"/>`,
  );

  out.push('<g class="points">');
  for (const p of finite) {
    const tip = `${p.label ? `${p.label} ` : ''}${p.quantity}: measured ${tickLabel(p.measured, 4)}, predicted ${tickLabel(p.predicted, 4)}`;
    out.push(
      `<circle class="point" cx="${fmt(x(p.measured))}" cy="${fmt(y(p.predicted))}" r="4" fill="${colour(p.quantity)}" fill-opacity="0.75" ` +
        `data-quantity="${escapeXml(p.quantity)}" data-measured="${p.measured}" data-predicted="${p.predicted}"><title>${escapeXml(tip)}</title></circle>`,
    );
  }
  out.push('</g>');

  out.push(
    `<g class="legend" transform="translate(${MARGIN.left + size + 20} ${MARGIN.top + 6})">`,
  );
  quantities.forEach((q, i) => {
    const count = finite.filter((p) => p.quantity === q).length;
    out.push(`<circle cx="6" cy="${i * 22}" r="5" fill="${colour(q)}"/>`);
    out.push(`<text x="18" y="${i * 22 + 4}">${escapeXml(q)} (${count})</text>`);
  });
  const line = quantities.length * 22;
  out.push(
    `<line x1="0" y1="${line}" x2="12" y2="${line}" stroke="#888888" stroke-dasharray="6 4"/>`,
  );
  out.push(`<text x="18" y="${line + 4}">y = x</text>`);
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

/** The shared axis range: all values, padded 5%, widened around a single value. */
function domain(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    return [lo - pad, hi + pad];
  }
  const pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  // Concentrations and conversions start at zero: show the origin when the data come close.
  if (lo > 0 && lo < 0.25 * hi) lo = 0;
  return [lo, hi];
}

/** Four to eight ticks at multiples of 1, 2 or 5 × 10ⁿ. */
function ticks(lo: number, hi: number): number[] {
  const power = 10 ** Math.floor(Math.log10((hi - lo) / 8));
  const step = ([1, 2, 5, 10, 20].find((f) => (hi - lo) / (f * power) <= 7.5) ?? 20) * power;
  const out: number[] = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + 1e-9 * step; i++)
    out.push(Number((i * step).toPrecision(12)));
  return out;
}

function tickLabel(value: number, digits = 6): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < 1e5
    ? String(Number(value.toPrecision(digits)))
    : value.toExponential(Math.min(digits, 3) - 1);
}

function fmt(value: number): string {
  return value.toFixed(2);
}

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

/** 16 px, or less so the title fits: bold sans-serif runs about 0.66 em a character. */
function titleFontSize(title: string, available: number): number {
  return Math.max(9, Math.min(16, Math.floor(available / (0.66 * Math.max(1, title.length)))));
}
