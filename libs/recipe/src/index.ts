export * from './lib/recipe.types';
export * from './lib/recipe.error';
export * from './lib/recipe.loader';
export * from './lib/plant-model';
export * from './lib/plant-model.error';
export * from './lib/units';
