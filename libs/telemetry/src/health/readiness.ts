import type { Provider, Type } from '@nestjs/common';

/** One entry of the ready probe: its key in the answer, up or down, and what it reports. */
export interface Readiness {
  key: string;
  up: boolean;
  details: Record<string, unknown>;
}

/** What a service supplies to the shared health controller: one check of its readiness. */
export interface ReadinessIndicator {
  readiness(): Readiness | Promise<Readiness>;
}

/** The injection token of the service's readiness indicators, in the order they answer. */
export const READINESS_INDICATORS = Symbol('READINESS_INDICATORS');

/**
 * The providers for a service's readiness indicators: each class, and the list the health
 * controller reads. Register them beside `HealthController` and `TerminusModule`.
 */
export function readinessProviders(...indicators: Type<ReadinessIndicator>[]): Provider[] {
  return [
    ...indicators,
    {
      provide: READINESS_INDICATORS,
      useFactory: (...found: ReadinessIndicator[]) => found,
      inject: indicators,
    },
  ];
}
