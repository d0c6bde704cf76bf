import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import recipeSchema from './recipe.schema.json';
import { consistencyIssues } from './recipe.consistency';
import { RecipeError, type RecipeIssue } from './recipe.error';
import type { Recipe } from './recipe.types';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
const validateSchema = ajv.compile<Recipe>(recipeSchema);

/** The JSON Schema recipes are validated against (draft-07). */
export const RECIPE_SCHEMA: object = recipeSchema;

/** Parses and validates a recipe given as YAML or JSON text. Throws RecipeError. */
export function parseRecipe(text: string, source?: string): Recipe {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new RecipeError(
      [{ path: '', message: `not valid YAML: ${(error as Error).message}` }],
      source,
    );
  }
  return validateRecipe(document, source);
}

/** Reads, parses and validates a recipe file. Throws RecipeError. */
export function loadRecipe(path: string): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RecipeError(
      [{ path: '', message: `cannot read file: ${(error as Error).message}` }],
      path,
    );
  }
  return parseRecipe(text, path);
}

/** Validates a parsed document against the schema, then for internal consistency. */
export function validateRecipe(document: unknown, source?: string): Recipe {
  if (!validateSchema(document)) {
    throw new RecipeError(schemaIssues(validateSchema.errors ?? [], document), source);
  }
  const issues = consistencyIssues(document);
  if (issues.length > 0) throw new RecipeError(issues, source);
  return document;
}

function schemaIssues(errors: ErrorObject[], document: unknown): RecipeIssue[] {
  const seen = new Set<string>();
  const issues: RecipeIssue[] = [];
  for (const error of errors) {
    // `if` errors repeat what their branch already said; `required` errors inside a `oneOf`
    // branch are replaced by the one `oneOf` message that names the alternatives.
    if (
      error.keyword === 'if' ||
      (error.keyword === 'required' && error.schemaPath.includes('/oneOf/'))
    )
      continue;
    let path = readablePath(error.instancePath, document);
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'oneOf') {
      const alternatives = (error.schema as { required?: string[] }[]).map((branch) =>
        (branch.required ?? []).join(' + '),
      );
      message = `give exactly one of: ${alternatives.join(', ')}`;
    } else if (error.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      path = path ? `${path}.${extra}` : extra;
      message = 'is not a known field';
    } else if (error.keyword === 'required') {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      path = path ? `${path}.${missing}` : missing;
      message = 'is required';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    }
    const line = `${path}: ${message}`;
    if (!seen.has(line)) {
      seen.add(line);
      issues.push({ path, message });
    }
  }
  return issues;
}

/** Turns `/steps/0/reactor/volume` into `steps[nitration].reactor.volume`. */
function readablePath(pointer: string, document: unknown): string {
  if (!pointer) return '';
  let node: unknown = document;
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const item: unknown = node[Number(key)];
      // Items are named by their id, or for inlets by their pump tag.
      const name = isRecord(item) ? (item['id'] ?? item['pump']) : undefined;
      const id = typeof name === 'string' ? name : key;
      path += `[${id}]`;
      node = item;
    } else {
      path += path ? `.${key}` : key;
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
