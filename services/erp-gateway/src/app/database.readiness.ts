import { Inject, Injectable } from '@nestjs/common';
import type { Readiness, ReadinessIndicator } from '@pipac/telemetry/health';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from './gateway-options';

/** Ready: the database answers a query. */
@Injectable()
export class DatabaseReadiness implements ReadinessIndicator {
  // Explicit token: the services also run through tsx, which emits no decorator metadata.
  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions) {}

  async readiness(): Promise<Readiness> {
    const driver = this.options.db.config.type;
    try {
      await this.options.db.dataSource.query('SELECT 1');
      return { key: 'database', up: true, details: { driver } };
    } catch (error) {
      return { key: 'database', up: false, details: { driver, error: (error as Error).message } };
    }
  }
}
