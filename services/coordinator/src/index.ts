export * from './app/coordinator';
export * from './app/audit-recorder';
export * from './app/cell-readings';
export * from './app/order-keeper';
export * from './app/production-ledger';
export * from './app/coordinator.config';
export * from './app/coordinator.module';
