export * from './lib/event-bus.port';
export * from './lib/in-process.bus';
export * from './lib/typed-events';
export * from './lib/kafka.bus';
export * from './lib/disk-spool';
export * from './lib/buffered-publisher';
export * from './lib/backoff';
