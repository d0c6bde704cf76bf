import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, readinessProviders } from '@pipac/telemetry/health';
import type { DeviceAdapterOptions } from './device-adapter';
import { DeviceAdapterReadiness } from './device-adapter.readiness';
import { DEVICE_ADAPTER_OPTIONS, DeviceAdapterService } from './device-adapter.service';

/** The device adapter as a Nest application: the adapter itself and its health endpoints. */
@Module({})
export class DeviceAdapterModule {
  static forRoot(options: DeviceAdapterOptions): DynamicModule {
    return {
      module: DeviceAdapterModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: DEVICE_ADAPTER_OPTIONS, useValue: options },
        DeviceAdapterService,
        ...readinessProviders(DeviceAdapterReadiness),
      ],
      exports: [DeviceAdapterService],
    };
  }
}
