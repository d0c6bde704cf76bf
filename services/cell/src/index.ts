export * from './app/cell';
export * from './app/shipped-models';
