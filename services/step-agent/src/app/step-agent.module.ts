import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, readinessProviders } from '@pipac/telemetry/health';
import type { StepAgentOptions } from './step-agent';
import { StepAgentReadiness } from './step-agent.readiness';
import { STEP_AGENT_OPTIONS, StepAgentService } from './step-agent.service';

/** The step agent as a Nest application: the agent and its health endpoints. */
@Module({})
export class StepAgentModule {
  static forRoot(options: StepAgentOptions): DynamicModule {
    return {
      module: StepAgentModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: STEP_AGENT_OPTIONS, useValue: options },
        StepAgentService,
        ...readinessProviders(StepAgentReadiness),
      ],
      exports: [StepAgentService],
    };
  }
}
