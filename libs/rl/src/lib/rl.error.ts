/**
 * What went wrong in training or evaluation, by kind:
 * - a bad configuration (not retriable): `INVALID_PLAN` (a training plan or shard that cannot
 *   run), `PLAN_MISMATCH` (a work folder started with another plan), `INVALID_CONFIG` (a
 *   trainer or evaluation set up wrong: no environment, no policy for an agent's step, a
 *   fallback that does not decide synchronously);
 * - a bad file (not retriable): `CORRUPT_STATE` (a state file whose length does not match its
 *   shape), `MISSING_RESULT` (a candidate without its result in the work folder),
 *   `SHAPE_MISMATCH` (weights that do not fit the network);
 * - work not yet done: `SHARDS_UNFINISHED` (retriable: merge again once they have finished);
 * - a failure while running: `CANDIDATE_FAILED` (a candidate's training threw in its worker;
 *   the same seed fails the same way), `CONTROLLER_FAILED` (a controller threw something that
 *   is not an Error), `BACKEND_UNAVAILABLE` (TensorFlow.js could not start the backend);
 * - a broken worker: `WORKER_FAILED` (an uncaught error in a worker thread, or the worker
 *   module loaded outside one), `WORKER_EXITED` (retriable: the thread died, e.g. for memory,
 *   and a fresh one may get through).
 */
export type RlErrorCode =
  | 'INVALID_PLAN'
  | 'PLAN_MISMATCH'
  | 'INVALID_CONFIG'
  | 'CORRUPT_STATE'
  | 'MISSING_RESULT'
  | 'SHAPE_MISMATCH'
  | 'SHARDS_UNFINISHED'
  | 'CANDIDATE_FAILED'
  | 'CONTROLLER_FAILED'
  | 'BACKEND_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'WORKER_EXITED';

const RETRIABLE: ReadonlySet<RlErrorCode> = new Set(['SHARDS_UNFINISHED', 'WORKER_EXITED']);

/** Training, population training, export or evaluation failed; `code` says how. */
export class RlError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: RlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RlError';
    this.retriable = RETRIABLE.has(code);
  }
}
