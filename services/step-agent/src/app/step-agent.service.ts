import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { StepAgent, type StepAgentOptions } from './step-agent';

export const STEP_AGENT_OPTIONS = Symbol('STEP_AGENT_OPTIONS');

/** The agent's lifecycle inside the Nest application; the health endpoints read its state. */
@Injectable()
export class StepAgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private agent: StepAgent | undefined;

  constructor(@Inject(STEP_AGENT_OPTIONS) private readonly options: StepAgentOptions) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.options.bus.connect();
    this.agent = await StepAgent.start(this.options);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
    await this.options.bus.disconnect();
  }

  /** Undefined until started. */
  get instance(): StepAgent | undefined {
    return this.agent;
  }

  get step(): string {
    return this.options.step;
  }
}
