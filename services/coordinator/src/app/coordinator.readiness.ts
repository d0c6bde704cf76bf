import { Inject, Injectable } from '@nestjs/common';
import type { Readiness, ReadinessIndicator } from '@pipac/telemetry/health';
import { CoordinatorService } from './coordinator.service';

/** Ready: the coordinator runs, its last cycle is recent (three cycles) and it knows every tank's level. */
@Injectable()
export class CoordinatorReadiness implements ReadinessIndicator {
  // Explicit token: the services also run through tsx, which emits no decorator metadata.
  constructor(@Inject(CoordinatorService) private readonly service: CoordinatorService) {}

  readiness(): Readiness {
    const key = 'coordinator';
    const coordinator = this.service.instance;
    const last = coordinator?.last;
    if (!coordinator || !last) {
      return { key, up: false, details: { started: Boolean(coordinator), cycles: 0 } };
    }
    const details = {
      lastCycleAt: new Date(last.at).toISOString(),
      order: coordinator.keeper.active?.order.erpReference ?? null,
      auditEntries: coordinator.recorder.written,
      ...(last.waiting ? { waiting: last.waiting } : {}),
    };
    const fresh = Date.now() - last.at < 3 * this.service.cycleMs;
    return { key, up: fresh && !last.waiting, details };
  }
}
