import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  DeviceAdapter,
  type DeviceAdapterOptions,
  type DeviceAdapterStats,
} from './device-adapter';

export const DEVICE_ADAPTER_OPTIONS = Symbol('DEVICE_ADAPTER_OPTIONS');

/**
 * The adapter's lifecycle inside the Nest application: started once the application has
 * bootstrapped, stopped on shutdown (SIGTERM with shutdown hooks), its state read by the
 * health endpoints.
 */
@Injectable()
export class DeviceAdapterService implements OnApplicationBootstrap, OnApplicationShutdown {
  private adapter: DeviceAdapter | undefined;

  constructor(@Inject(DEVICE_ADAPTER_OPTIONS) private readonly options: DeviceAdapterOptions) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.options.bus.connect();
    this.adapter = await DeviceAdapter.start(this.options);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.adapter?.stop();
    this.adapter = undefined;
    await this.options.bus.disconnect();
  }

  /** Undefined until started. */
  get stats(): DeviceAdapterStats | undefined {
    return this.adapter?.stats;
  }

  get device(): string {
    return this.options.nodeMap.device;
  }
}
