import { Inject, Injectable } from '@nestjs/common';
import type { Readiness, ReadinessIndicator } from '@pipac/telemetry/health';
import { DeviceAdapterService } from './device-adapter.service';

/**
 * Ready: the adapter runs, its OPC UA session is connected and the server's heartbeat is
 * alive; while not ready, the answer is 503 with the reason (readings are still spooled and
 * commands refused, not lost).
 */
@Injectable()
export class DeviceAdapterReadiness implements ReadinessIndicator {
  // Explicit token: the services also run through tsx, which emits no decorator metadata.
  constructor(@Inject(DeviceAdapterService) private readonly adapter: DeviceAdapterService) {}

  readiness(): Readiness {
    const key = `device:${this.adapter.device}`;
    const stats = this.adapter.stats;
    const details: Record<string, unknown> = stats
      ? {
          connected: stats.connected,
          heartbeat: stats.heartbeat,
          readings: stats.readings,
          published: stats.published,
          inMemory: stats.inMemory,
          onDisk: stats.onDisk,
          dropped: stats.dropped,
        }
      : { started: false };
    const up = stats !== undefined && stats.connected && stats.heartbeat;
    return { key, up, details };
  }
}
