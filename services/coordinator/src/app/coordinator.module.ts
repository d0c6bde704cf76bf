import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, readinessProviders } from '@pipac/telemetry/health';
import type { CoordinatorOptions } from './coordinator';
import { CoordinatorReadiness } from './coordinator.readiness';
import { COORDINATOR_OPTIONS, CoordinatorService } from './coordinator.service';

export { COORDINATOR_OPTIONS, CoordinatorService } from './coordinator.service';

/** The coordinator as a Nest application: the coordinator and its health endpoints. */
@Module({})
export class CoordinatorModule {
  static forRoot(options: CoordinatorOptions): DynamicModule {
    return {
      module: CoordinatorModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: COORDINATOR_OPTIONS, useValue: options },
        CoordinatorService,
        ...readinessProviders(CoordinatorReadiness),
      ],
      exports: [CoordinatorService],
    };
  }
}
