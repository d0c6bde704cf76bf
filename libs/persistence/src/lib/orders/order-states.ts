/**
 * ISA-95 (IEC 62264-4) production request states, as B2MML's RequestState: an order is
 * planned (Forecast), handed to the cell (Released), prepared (Ready), made (Running), and
 * ends Completed or Aborted; Closed once the ERP has booked it. Held pauses it from any
 * state before the end.
 */
export const ORDER_STATES = [
  'Forecast',
  'Released',
  'Ready',
  'Running',
  'Held',
  'Completed',
  'Aborted',
  'Closed',
] as const;

export type OrderState = (typeof ORDER_STATES)[number];

/** What moves an order, and who may: the ERP's commands, the cell's own progress. */
export type OrderCommand =
  | 'release' // ERP: Forecast → Released
  | 'prepare' // cell: Released → Ready (the coordinator accepts it)
  | 'start' // cell: Ready → Running (production begins)
  | 'hold' // ERP or operator: Released | Ready | Running → Held
  | 'resume' // ERP or operator: Held → Ready
  | 'complete' // cell: Running → Completed (the quantity is made)
  | 'abort' // ERP or operator: any state before the end → Aborted
  | 'close'; // ERP: Completed | Aborted → Closed

const TRANSITIONS: Record<OrderCommand, { from: readonly OrderState[]; to: OrderState }> = {
  release: { from: ['Forecast'], to: 'Released' },
  prepare: { from: ['Released'], to: 'Ready' },
  start: { from: ['Ready'], to: 'Running' },
  hold: { from: ['Released', 'Ready', 'Running'], to: 'Held' },
  resume: { from: ['Held'], to: 'Ready' },
  complete: { from: ['Running'], to: 'Completed' },
  abort: { from: ['Forecast', 'Released', 'Ready', 'Running', 'Held'], to: 'Aborted' },
  close: { from: ['Completed', 'Aborted'], to: 'Closed' },
};

export const ORDER_COMMANDS = Object.keys(TRANSITIONS) as OrderCommand[];

/** The state `command` leads to from `state`, or undefined when ISA-95 does not allow it. */
export function nextOrderState(state: OrderState, command: OrderCommand): OrderState | undefined {
  const transition = TRANSITIONS[command];
  return transition.from.includes(state) ? transition.to : undefined;
}

/** States the cell works on (the coordinator's queue), in the order it takes them. */
export const ACTIVE_ORDER_STATES: readonly OrderState[] = ['Released', 'Ready', 'Running'];

export function isFinalOrderState(state: OrderState): boolean {
  return state === 'Completed' || state === 'Aborted' || state === 'Closed';
}
