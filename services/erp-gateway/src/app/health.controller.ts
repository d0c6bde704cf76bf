import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { Public } from './auth/roles';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from './gateway-options';

/** Probes for Kubernetes. Live: the process answers. Ready: the database answers a query. */
@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database()]);
  }

  private async database(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('database');
    try {
      await this.options.db.dataSource.query('SELECT 1');
      return check.up({ driver: this.options.db.config.type });
    } catch (error) {
      return check.down({ driver: this.options.db.config.type, error: (error as Error).message });
    }
  }
}
