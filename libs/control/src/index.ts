export * from './lib/pid';
export * from './lib/safety-shield';
