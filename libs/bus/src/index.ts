export * from './lib/event-bus.port';
export * from './lib/in-process.bus';
export * from './lib/typed-events';
export * from './lib/kafka.bus';
