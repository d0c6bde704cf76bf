/** One line of a panel: a label and y values aligned with the chart's x values. */
export interface Series {
  label: string;
  values: readonly number[];
  /** Palette index, so one thing keeps its colour across panels. @default the series' position */
  colour?: number;
  /** Drawn dashed (e.g. a measurement beside the true value). @default false */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  x: readonly number[];
  panels: Panel[];
}

const WIDTH = 900;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 70, right: 190, top: 84, gap: 46, bottom: 46 };
// Okabe–Ito, readable by colour-blind readers.
const COLOURS = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

/**
 * Stacked line panels sharing one x axis, as a standalone SVG: what a simulated run looks
 * like over time. Non-finite values (an analyser before its first result) break the line.
 */
export function lineChartSvg(options: LineChartOptions): string {
  const { x, panels } = options;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const height =
    MARGIN.top + panels.length * (PANEL_HEIGHT + MARGIN.gap) + MARGIN.bottom - MARGIN.gap;
  const [xMin, xMax] = extent(x);
  const sx = (v: number) => MARGIN.left + ((v - xMin) / (xMax - xMin || 1)) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="26" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.subtitle)
    out.push(
      `<text x="${MARGIN.left}" y="46" fill="#444444">${escapeXml(options.subtitle)}</text>`,
    );
  panels.forEach((panel, p) => {
    const top = MARGIN.top + p * (PANEL_HEIGHT + MARGIN.gap);
    const [yMin, yMax] = padded(extent(panel.series.flatMap((s) => s.values)));
    const sy = (v: number) => top + PANEL_HEIGHT - ((v - yMin) / (yMax - yMin || 1)) * PANEL_HEIGHT;
    out.push(`<g class="panel" data-title="${escapeXml(panel.title)}">`);
    out.push(
      `<text x="${MARGIN.left}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    for (const tick of ticks(yMin, yMax)) {
      out.push(
        `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${sy(tick).toFixed(1)}" y2="${sy(tick).toFixed(1)}" stroke="#e3e3e3"/>`,
      );
      out.push(
        `<text x="${MARGIN.left - 6}" y="${(sy(tick) + 4).toFixed(1)}" text-anchor="end">${formatTick(tick)}</text>`,
      );
    }
    out.push(
      `<text transform="translate(16 ${top + PANEL_HEIGHT / 2}) rotate(-90)" text-anchor="middle" fill="#444444">${escapeXml(panel.unit)}</text>`,
    );
    panel.series.forEach((series, s) => {
      const colour = COLOURS[(series.colour ?? s) % COLOURS.length]!;
      const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
      let d = '';
      let pen = false;
      series.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${sx(x[i] ?? 0).toFixed(1)} ${sy(v).toFixed(1)}`;
        pen = true;
      });
      out.push(
        `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.8"${dash} data-series="${escapeXml(series.label)}"/>`,
      );
      const ly = top + 12 + s * 18;
      out.push(
        `<line x1="${WIDTH - MARGIN.right + 14}" x2="${WIDTH - MARGIN.right + 34}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2.5"${dash}/>`,
      );
      out.push(
        `<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 4}">${escapeXml(series.label)}</text>`,
      );
    });
    out.push(
      `<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#333333"/>`,
    );
    for (const tick of ticks(xMin, xMax)) {
      out.push(
        `<text x="${sx(tick).toFixed(1)}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle">${formatTick(tick)}</text>`,
      );
    }
    out.push('</g>');
  });
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="#444444">${escapeXml(options.xLabel)}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function extent(values: readonly number[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? [min, max] : [0, 1];
}

/** 5 % headroom, and a visible band when the line is flat (to within round-off). */
function padded([min, max]: [number, number]): [number, number] {
  const flat = max - min <= 1e-9 * Math.max(Math.abs(min), Math.abs(max));
  const span = flat ? Math.abs(max) * 0.1 || 1 : max - min;
  return [min - 0.05 * span, max + 0.05 * span];
}

/** About five round ticks between min and max. */
function ticks(min: number, max: number): number[] {
  const span = max - min || 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const result: number[] = [];
  const first = Math.ceil(min / step);
  // Counted, not accumulated: a step below the values' resolution cannot loop forever.
  for (let i = 0; i <= 20; i++) {
    const t = (first + i) * step;
    if (t > max + 1e-9 * span) break;
    result.push(Number(t.toPrecision(12)));
  }
  return result;
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0)
    ? value.toExponential(1)
    : String(Number(value.toPrecision(4)));
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
