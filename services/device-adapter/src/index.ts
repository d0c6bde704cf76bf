export * from './app/device-adapter';
export * from './app/adapter.config';
export * from './app/command-journal';
export * from './app/setpoint-command.handler';
export * from './app/sensor-reading.mapper';
export * from './app/device-adapter.module';
export * from './app/device-adapter.service';
