export * from './app/plant-simulator';
export * from './app/plant-simulation';
