import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
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

/**
 * Probes for Kubernetes. Live: the process answers. Ready: the coordinator runs, its last
 * cycle is recent (three cycles) and it knows every tank's level.
 */
@Controller('health')
export class CoordinatorHealthController {
  // Explicit tokens: the services also run through tsx, which emits no decorator metadata.
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(CoordinatorService) private readonly service: CoordinatorService,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.coordinator()]);
  }

  private coordinator(): HealthIndicatorResult {
    const check = this.indicator.check('coordinator');
    const coordinator = this.service.instance;
    const last = coordinator?.last;
    if (!coordinator || !last) return check.down({ started: Boolean(coordinator), cycles: 0 });
    const detail = {
      lastCycleAt: new Date(last.at).toISOString(),
      order: coordinator.keeper.active?.order.erpReference ?? null,
      auditEntries: coordinator.recorder.written,
      ...(last.waiting ? { waiting: last.waiting } : {}),
    };
    const fresh = Date.now() - last.at < 3 * this.service.cycleMs;
    return fresh && !last.waiting ? check.up(detail) : check.down(detail);
  }
}

@Module({})
export class CoordinatorModule {
  static forRoot(options: CoordinatorOptions): DynamicModule {
    return {
      module: CoordinatorModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [CoordinatorHealthController],
      providers: [{ provide: COORDINATOR_OPTIONS, useValue: options }, CoordinatorService],
      exports: [CoordinatorService],
    };
  }
}
