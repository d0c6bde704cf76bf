import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { DeviceAdapterOptions } from './device-adapter';
import { DEVICE_ADAPTER_OPTIONS, DeviceAdapterService } from './device-adapter.service';
import { HealthController } from './health.controller';

/** The device adapter as a Nest application: the adapter itself and its health endpoints. */
@Module({})
export class DeviceAdapterModule {
  static forRoot(options: DeviceAdapterOptions): DynamicModule {
    return {
      module: DeviceAdapterModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ provide: DEVICE_ADAPTER_OPTIONS, useValue: options }, DeviceAdapterService],
      exports: [DeviceAdapterService],
    };
  }
}
