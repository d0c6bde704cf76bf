import { Inject, Injectable } from '@nestjs/common';
import type { Readiness, ReadinessIndicator } from '@pipac/telemetry/health';
import { StepAgentService } from './step-agent.service';

/**
 * Ready: the agent runs on the bus and has read its step's sensors within the last three
 * cycles (without a policy it is still ready: the fallback controller runs the step; the
 * detail says so).
 */
@Injectable()
export class StepAgentReadiness implements ReadinessIndicator {
  // Explicit token: the services also run through tsx, which emits no decorator metadata.
  constructor(@Inject(StepAgentService) private readonly service: StepAgentService) {}

  readiness(): Readiness {
    const key = `step:${this.service.step}`;
    const agent = this.service.instance;
    if (!agent) return { key, up: false, details: { started: false } };
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
    const up = stats.busConnected && fresh;
    return { key, up, details: up ? details : { ...details, fresh } };
  }
}
