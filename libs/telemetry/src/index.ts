export * from './lib/metric-catalogue';
export * from './lib/instruments';
export * from './lib/trace-context';
export * from './lib/telemetry';
export * from './lib/telemetry.error';
