export * from './cell.scenarios';
