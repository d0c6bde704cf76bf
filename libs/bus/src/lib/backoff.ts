/**
 * Retry with exponential back-off, shared by the buffered publisher, the Kafka bus's admin
 * requests and the gateway's webhook deliveries. Written here rather than taken from p-retry
 * or exponential-backoff: those draw their jitter from Math.random and wait on their own
 * timers, where this code injects both (seeded randomness and a controllable sleep in tests).
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Longest delay, ms: the doubling stops there. */
  maxMs: number;
  /** Random numbers in [0, 1): each delay is jittered ±50 %. @default no jitter */
  random?: () => number;
}

/** The delay before retry number `retry` (0 for the first): `initialMs` doubled each time, capped. */
export function backoffDelay(retry: number, { initialMs, maxMs, random }: BackoffOptions): number {
  const delay = Math.min(maxMs, initialMs * 2 ** retry);
  return random ? delay * (0.5 + random()) : delay;
}

export interface RetryOptions extends BackoffOptions {
  /** Tries in all, the first one included. */
  attempts: number;
  /** Whether an error is worth another try. @default every error */
  retriable?: (error: unknown) => boolean;
  /** Waits between tries. @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

/** Runs `task` until it resolves; rethrows an error that is not retriable or comes on the last try. */
export async function retryWithBackoff<T>(
  task: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? timerSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      const retriable = options.retriable?.(error) ?? true;
      if (!retriable || attempt >= options.attempts) throw error;
      await sleep(backoffDelay(attempt - 1, options));
    }
  }
}

function timerSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
