import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Coordinator, type CoordinatorOptions } from './coordinator';

export const COORDINATOR_OPTIONS = Symbol('COORDINATOR_OPTIONS');

/** The coordinator's lifecycle inside the Nest application. */
@Injectable()
export class CoordinatorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private coordinator: Coordinator | undefined;

  constructor(@Inject(COORDINATOR_OPTIONS) private readonly options: CoordinatorOptions) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.options.bus.connect();
    this.coordinator = await Coordinator.start(this.options);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.coordinator?.stop();
    this.coordinator = undefined;
    await this.options.bus.disconnect();
    await this.options.db.close();
  }

  get instance(): Coordinator | undefined {
    return this.coordinator;
  }

  get cycleMs(): number {
    return this.options.cycleMs ?? 60_000;
  }
}
