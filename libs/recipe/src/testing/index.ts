export * from './recipe-fixtures';
