import { PolicyError } from './policy.error';

/** The timers a deadline runs on: the system's, or a test's fake ones. */
export interface DeadlineTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: DeadlineTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * `work`, or a PolicyError DEADLINE_EXCEEDED once `ms` have passed without it: a hung inference
 * must not hold the control cycle (the shield then takes the fallback in the same cycle). The
 * work itself cannot be cancelled; its late answer is dropped. No deadline for `ms` = Infinity.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  timers: DeadlineTimers = systemTimers,
): Promise<T> {
  if (!Number.isFinite(ms)) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = timers.setTimeout(
      () => reject(new PolicyError('DEADLINE_EXCEEDED', `${what} gave no answer within ${ms} ms`)),
      ms,
    );
    work.then(
      (value) => {
        timers.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        timers.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
