import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { DeviceAdapterService } from './device-adapter.service';

/**
 * Probes for Kubernetes. Live: the process answers. Ready: the adapter runs, its OPC UA
 * session is connected and the server's heartbeat is alive; while not ready, the answer is
 * 503 with the reason (readings are still spooled and commands refused, not lost).
 */
@Controller('health')
export class HealthController {
  // Explicit tokens: the services also run through tsx (esbuild), which emits no decorator
  // metadata for Nest to read the parameter types from.
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(DeviceAdapterService) private readonly adapter: DeviceAdapterService,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.device()]);
  }

  private device(): HealthIndicatorResult {
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
    const session = this.indicator.check(key);
    const up = stats !== undefined && stats.connected && stats.heartbeat;
    return up ? session.up(details) : session.down(details);
  }
}
