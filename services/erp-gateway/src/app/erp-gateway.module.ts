import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { readinessProviders } from '@pipac/telemetry/health';
import { ApiKeyGuard } from './auth/api-key.guard';
import { DatabaseReadiness } from './database.readiness';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from './gateway-options';
import { GatewayHealthController } from './gateway-health.controller';
import { ProblemFilter } from './http/problem.filter';
import { LotsController } from './lots/lots.controller';
import { ModelsController } from './models/models.controller';
import { OrdersController } from './orders/orders.controller';
import { StepStatusCache } from './steps/step-status.cache';
import { StepsController } from './steps/steps.controller';
import { Stores } from './stores';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { WebhookTargetPolicy } from './webhooks/webhook-target-policy';
import { WebhooksController } from './webhooks/webhooks.controller';

/** The ERP gateway: REST for orders, lots, batch records, operators and engineers; webhooks out. */
@Module({})
export class ErpGatewayModule {
  static forRoot(options: ErpGatewayOptions): DynamicModule {
    // Built here so a bad allowNetworks entry stops start-up, naming it.
    const webhookTargets = new WebhookTargetPolicy(options.webhooks?.allowNetworks ?? []);
    return {
      module: ErpGatewayModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [
        OrdersController,
        LotsController,
        StepsController,
        ModelsController,
        WebhooksController,
        GatewayHealthController,
      ],
      providers: [
        { provide: GATEWAY_OPTIONS, useValue: options },
        { provide: WebhookTargetPolicy, useValue: webhookTargets },
        Stores,
        StepStatusCache,
        WebhookDispatcher,
        ...readinessProviders(DatabaseReadiness),
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        {
          provide: APP_FILTER,
          useValue: new ProblemFilter((error) =>
            process.stderr.write(
              `erp-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
            ),
          ),
        },
      ],
      exports: [Stores, WebhookDispatcher],
    };
  }
}
