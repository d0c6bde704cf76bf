export * from './lib/service-config';
