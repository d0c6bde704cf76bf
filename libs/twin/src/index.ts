export * from './lib/recipe/recipe.types';
export * from './lib/recipe/recipe.error';
export * from './lib/recipe/recipe.loader';
export * from './lib/steady/steady-state.types';
