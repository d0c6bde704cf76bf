/**
 * - `NOT_A_POLICY`: the ONNX model does not map `observation` to `action`;
 * - `CARD_MISMATCH`: the model card does not fit the step (another step, recipe, features or
 *   action tags), or the file is not the version its card names;
 * - `SHAPE_MISMATCH`: observations handed to the policy are not a whole number of its inputs;
 * - `NON_FINITE_ACTION`: the policy answered NaN or ±Infinity (a numeric failure);
 * - `DEADLINE_EXCEEDED`: the inference gave no answer within its deadline (a hung session);
 * - `NO_POLICY`: a step of the plant has no usable policy in the folder (the cause says why).
 */
export type PolicyErrorCode =
  | 'NOT_A_POLICY'
  | 'CARD_MISMATCH'
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE_ACTION'
  | 'DEADLINE_EXCEEDED'
  | 'NO_POLICY';

/**
 * A trained policy that may not run a step, or that failed while running it. Not retriable:
 * the same file gives the same answer; the shield falls back and the service keeps the policy
 * it had.
 */
export class PolicyError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PolicyError';
  }
}
