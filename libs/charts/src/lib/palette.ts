/**
 * Okabe & Ito's colour-blind-safe palette; yellow last, as it reads worst on white.
 * @see https://jfly.uni-koeln.de/color/
 */
export const PALETTE: readonly string[] = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];

/** The palette's colour for an index, wrapping round. */
export function paletteColour(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000000';
}
