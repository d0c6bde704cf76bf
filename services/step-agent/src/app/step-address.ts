/** Where a step agent sits in the ISA-95 hierarchy: its topics and its events' locations. */
export interface StepAddress {
  site: string;
  cell: string;
  step: string;
}

/** The events' location of the step itself (no device). */
export function stepLocation(address: StepAddress) {
  return { site: address.site, cell: address.cell, step: address.step, device: '' };
}
