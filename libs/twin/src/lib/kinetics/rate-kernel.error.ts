export type RateKernelErrorCode =
  /** A rate constant, order or coefficient is NaN or ±∞, so it cannot be written into the kernel's source. */
  | 'CONSTANT_NOT_FINITE'
  /** A species index is not a non-negative integer. */
  | 'INDEX_INVALID';

/**
 * A generated kernel's source cannot be written: only finite numbers and integer indices may
 * reach `new Function` (see rate-kernel.ts). A defect in the compiled model, not retriable.
 */
export class RateKernelError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: RateKernelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RateKernelError';
  }
}
