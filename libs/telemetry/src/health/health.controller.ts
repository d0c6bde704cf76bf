import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { READINESS_INDICATORS, type ReadinessIndicator } from './readiness';

/**
 * Probes for Kubernetes, shared by the services. Live: the process answers. Ready: every
 * readiness indicator the service registered is up; while one is down, the answer is 503 with
 * its details (what each service reports is documented on its indicator).
 */
@Controller('health')
export class HealthController {
  // Explicit tokens: the services also run through tsx (esbuild), which emits no decorator
  // metadata for Nest to read the parameter types from.
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(READINESS_INDICATORS) private readonly indicators: ReadinessIndicator[],
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.indicators.map((indicator) => () => this.check(indicator)));
  }

  private async check(indicator: ReadinessIndicator): Promise<HealthIndicatorResult> {
    const { key, up, details } = await indicator.readiness();
    const session = this.indicator.check(key);
    return up ? session.up(details) : session.down(details);
  }
}
