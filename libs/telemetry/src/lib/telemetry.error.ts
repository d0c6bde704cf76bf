export type TelemetryErrorCode = 'ALREADY_RUNNING' | 'ENDPOINT_UNAVAILABLE';

/** Telemetry could not start: one SDK per process, and the metrics port must be free. */
export class TelemetryError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: TelemetryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TelemetryError';
  }
}
