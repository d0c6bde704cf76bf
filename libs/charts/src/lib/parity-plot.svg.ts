import { extent, formatNumber, linearScale, niceTicks, px, type NumberFormat } from './axis';
import { paletteColour } from './palette';
import { escapeXml, svgOpening } from './svg-document';

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

const MARGIN = { left: 78, right: 170, top: 70, bottom: 62 };
const TICK_LABEL: NumberFormat = { significant: 6, plainBelow: 1e5, exponentDigits: 2 };
const TOOLTIP_VALUE: NumberFormat = { significant: 4, plainBelow: 1e5, exponentDigits: 2 };

/** The square plot: both axes carry the same range, so one scale each way. */
interface Frame {
  size: number;
  lo: number;
  hi: number;
  x: (value: number) => number;
  y: (value: number) => number;
  colour: (quantity: string) => string;
}

export function parityPlotSvg(
  points: readonly ParityPoint[],
  options: ParityPlotOptions = {},
): string {
  const size = options.size ?? 440;
  const width = MARGIN.left + size + MARGIN.right;
  const height = MARGIN.top + size + MARGIN.bottom;
  const finite = points.filter((p) => Number.isFinite(p.measured) && Number.isFinite(p.predicted));
  const [lo, hi] = parityDomain(finite.flatMap((p) => [p.measured, p.predicted]));
  const quantities = [...new Set(points.map((p) => p.quantity))];
  const frame: Frame = {
    size,
    lo,
    hi,
    x: linearScale([lo, hi], [MARGIN.left, MARGIN.left + size]),
    y: linearScale([lo, hi], [MARGIN.top + size, MARGIN.top]),
    colour: (q) => paletteColour(quantities.indexOf(q)),
  };
  const title = options.title ?? 'Parity plot';
  const out = svgOpening(width, height, title);
  // A long title (a long file name) gets a smaller font rather than running off the picture.
  out.push(
    `<text x="${MARGIN.left}" y="28" font-size="${titleFontSize(title, width - MARGIN.left - 10)}" font-weight="bold">${escapeXml(title)}</text>`,
  );
  if (options.subtitle)
    out.push(
      `<text x="${MARGIN.left}" y="48" fill="#444444">${escapeXml(options.subtitle)}</text>`,
    );
  out.push(...axes(frame, height, escapeXml(options.unit ?? 'mol/L or fraction')));
  out.push(...pointMarks(frame, finite));
  out.push(...legend(frame, quantities, finite), '</svg>');
  return `${out.join('\n')}\n`;
}

/** Grid, ticks and labels, the frame, the axis titles and the y = x line. */
function axes(frame: Frame, height: number, unit: string): string[] {
  const { size, lo, hi, x, y } = frame;
  // The same ticks on both axes, since both carry the same quantity.
  const ticks = niceTicks(lo, hi, 7.5);
  const out = ['<g class="axes" stroke="#dddddd" stroke-width="1">'];
  for (const tick of ticks) {
    out.push(
      `<line x1="${px(x(tick))}" y1="${MARGIN.top}" x2="${px(x(tick))}" y2="${MARGIN.top + size}"/>`,
      `<line x1="${MARGIN.left}" y1="${px(y(tick))}" x2="${MARGIN.left + size}" y2="${px(y(tick))}"/>`,
    );
  }
  out.push('</g>', '<g class="tick-labels" fill="#333333">');
  for (const tick of ticks) {
    const label = escapeXml(formatNumber(tick, TICK_LABEL));
    out.push(
      `<text x="${px(x(tick))}" y="${MARGIN.top + size + 18}" text-anchor="middle">${label}</text>`,
      `<text x="${MARGIN.left - 8}" y="${px(y(tick) + 4)}" text-anchor="end">${label}</text>`,
    );
  }
  const middle = MARGIN.top + size / 2;
  out.push(
    '</g>',
    `<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${size}" height="${size}" fill="none" stroke="#333333"/>`,
    `<text x="${MARGIN.left + size / 2}" y="${height - 18}" text-anchor="middle">measured (${unit})</text>`,
    `<text x="20" y="${middle}" text-anchor="middle" transform="rotate(-90 20 ${middle})">predicted (${unit})</text>`,
    `<line class="identity" x1="${px(x(lo))}" y1="${px(y(lo))}" x2="${px(x(hi))}" y2="${px(y(hi))}" stroke="#888888" stroke-dasharray="6 4"/>`,
  );
  return out;
}

/** One circle per measurement, with its values in data attributes and a tooltip. */
function pointMarks(frame: Frame, points: readonly ParityPoint[]): string[] {
  const out = ['<g class="points">'];
  for (const p of points) {
    const tip = `${p.label ? `${p.label} ` : ''}${p.quantity}: measured ${formatNumber(p.measured, TOOLTIP_VALUE)}, predicted ${formatNumber(p.predicted, TOOLTIP_VALUE)}`;
    out.push(
      `<circle class="point" cx="${px(frame.x(p.measured))}" cy="${px(frame.y(p.predicted))}" r="4" fill="${frame.colour(p.quantity)}" fill-opacity="0.75" ` +
        `data-quantity="${escapeXml(p.quantity)}" data-measured="${p.measured}" data-predicted="${p.predicted}"><title>${escapeXml(tip)}</title></circle>`,
    );
  }
  out.push('</g>');
  return out;
}

/** Each quantity with its colour and count of points, then the y = x line. */
function legend(
  frame: Frame,
  quantities: readonly string[],
  points: readonly ParityPoint[],
): string[] {
  const out = [
    `<g class="legend" transform="translate(${MARGIN.left + frame.size + 20} ${MARGIN.top + 6})">`,
  ];
  quantities.forEach((q, i) => {
    const count = points.filter((p) => p.quantity === q).length;
    out.push(
      `<circle cx="6" cy="${i * 22}" r="5" fill="${frame.colour(q)}"/>`,
      `<text x="18" y="${i * 22 + 4}">${escapeXml(q)} (${count})</text>`,
    );
  });
  const line = quantities.length * 22;
  out.push(
    `<line x1="0" y1="${line}" x2="12" y2="${line}" stroke="#888888" stroke-dasharray="6 4"/>`,
    `<text x="18" y="${line + 4}">y = x</text>`,
    '</g>',
  );
  return out;
}

/** The shared axis range: all values, padded 5%, widened around a single value. */
function parityDomain(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let [lo, hi] = extent(values);
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

/** 16 px, or less so the title fits: bold sans-serif runs about 0.66 em a character. */
function titleFontSize(title: string, available: number): number {
  return Math.max(9, Math.min(16, Math.floor(available / (0.66 * Math.max(1, title.length)))));
}
