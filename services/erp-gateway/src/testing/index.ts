export * from './rest-client';
