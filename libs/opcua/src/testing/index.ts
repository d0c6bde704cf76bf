export * from './free-port';
export * from './reference-plant';
