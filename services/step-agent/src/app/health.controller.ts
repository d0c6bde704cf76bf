import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { StepAgentService } from './step-agent.service';

/**
 * Probes for Kubernetes. Live: the process answers. Ready: the agent runs on the bus and has
 * read its step's sensors within the last three cycles (without a policy it is still ready:
 * the fallback controller runs the step; the detail says so).
 */
@Controller('health')
export class HealthController {
  // Explicit tokens: the services also run through tsx (esbuild), which emits no decorator
  // metadata for Nest to read the parameter types from.
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(StepAgentService) private readonly service: StepAgentService,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.agent()]);
  }

  private agent(): HealthIndicatorResult {
    const key = `step:${this.service.step}`;
    const agent = this.service.instance;
    const check = this.indicator.check(key);
    if (!agent) return check.down({ started: false });
    const stats = agent.stats;
    const details = {
      mode: agent.mode,
      shadow: agent.shadow,
      modelVersion: stats.modelVersion || 'none (fallback only)',
      cycles: stats.cycles,
      commands: stats.commands,
      readings: stats.readings,
      interventions: stats.interventions,
    };
    const fresh = Date.now() - stats.lastReadingAt <= 3 * agent.cycleMs;
    return stats.busConnected && fresh ? check.up(details) : check.down({ ...details, fresh });
  }
}
