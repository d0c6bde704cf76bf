import { extent, formatNumber, linearScale, niceTicks, px, type NumberFormat } from './axis';
import { paletteColour } from './palette';
import { escapeXml, svgOpening } from './svg-document';

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
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const TICK_LABEL: NumberFormat = { significant: 4, plainBelow: 1e4, exponentDigits: 1 };

/**
 * Stacked line panels sharing one x axis, as a standalone SVG: what a simulated run looks
 * like over time. Non-finite values (an analyser before its first result) break the line.
 */
export function lineChartSvg(options: LineChartOptions): string {
  const { x, panels } = options;
  const height =
    MARGIN.top + panels.length * (PANEL_HEIGHT + MARGIN.gap) + MARGIN.bottom - MARGIN.gap;
  const xDomain = extent(x);
  const sx = linearScale(xDomain, [MARGIN.left, MARGIN.left + PLOT_WIDTH]);
  const out = svgOpening(WIDTH, height, options.title);
  out.push(
    `<text x="${MARGIN.left}" y="26" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle)
    out.push(
      `<text x="${MARGIN.left}" y="46" fill="#444444">${escapeXml(options.subtitle)}</text>`,
    );
  panels.forEach((panel, p) => {
    const top = MARGIN.top + p * (PANEL_HEIGHT + MARGIN.gap);
    out.push(...panelSvg(panel, top, x, sx, niceTicks(xDomain[0], xDomain[1], 5)));
  });
  out.push(
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${height - 8}" text-anchor="middle" fill="#444444">${escapeXml(options.xLabel)}</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

/** One panel at `top`: its title, y grid and labels, its lines with their legend, x labels. */
function panelSvg(
  panel: Panel,
  top: number,
  x: readonly number[],
  sx: (value: number) => number,
  xTicks: readonly number[],
): string[] {
  const [yMin, yMax] = padded(extent(panel.series.flatMap((s) => s.values)));
  const sy = linearScale([yMin, yMax], [top + PANEL_HEIGHT, top]);
  const out = [
    `<g class="panel" data-title="${escapeXml(panel.title)}">`,
    `<text x="${MARGIN.left}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`,
  ];
  for (const tick of niceTicks(yMin, yMax, 5)) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${px(sy(tick), 1)}" y2="${px(sy(tick), 1)}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 6}" y="${px(sy(tick) + 4, 1)}" text-anchor="end">${formatNumber(tick, TICK_LABEL)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${top + PANEL_HEIGHT / 2}) rotate(-90)" text-anchor="middle" fill="#444444">${escapeXml(panel.unit)}</text>`,
  );
  panel.series.forEach((series, s) => {
    out.push(...seriesSvg(series, s, top, (i, v) => `${px(sx(x[i] ?? 0), 1)} ${px(sy(v), 1)}`));
  });
  out.push(
    `<rect x="${MARGIN.left}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#333333"/>`,
  );
  for (const tick of xTicks) {
    out.push(
      `<text x="${px(sx(tick), 1)}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle">${formatNumber(tick, TICK_LABEL)}</text>`,
    );
  }
  out.push('</g>');
  return out;
}

/** The series' path (the pen lifts at non-finite values) and its legend entry. */
function seriesSvg(
  series: Series,
  position: number,
  top: number,
  point: (index: number, value: number) => string,
): string[] {
  const colour = paletteColour(series.colour ?? position);
  const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
  let d = '';
  let pen = false;
  series.values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${point(i, v)}`;
    pen = true;
  });
  const ly = top + 12 + position * 18;
  return [
    `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.8"${dash} data-series="${escapeXml(series.label)}"/>`,
    `<line x1="${WIDTH - MARGIN.right + 14}" x2="${WIDTH - MARGIN.right + 34}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2.5"${dash}/>`,
    `<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 4}">${escapeXml(series.label)}</text>`,
  ];
}

/** 5 % headroom, and a visible band when the line is flat (to within round-off). */
function padded([min, max]: [number, number]): [number, number] {
  const flat = max - min <= 1e-9 * Math.max(Math.abs(min), Math.abs(max));
  const span = flat ? Math.abs(max) * 0.1 || 1 : max - min;
  return [min - 0.05 * span, max + 0.05 * span];
}
