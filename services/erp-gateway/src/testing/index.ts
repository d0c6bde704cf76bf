export * from './rest-client';
export * from './fuzz-target';
