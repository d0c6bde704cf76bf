export * from './lib/service-config';
export * from './lib/workspace';
