import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import recipeSchema from './recipe.schema.json';
import { RecipeError, type RecipeIssue } from './recipe.error';
import type { ManipulatedSpec, Recipe } from './recipe.types';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
const validateSchema = ajv.compile<Recipe>(recipeSchema);

/** The JSON Schema recipes are validated against (draft-07). */
export const RECIPE_SCHEMA: object = recipeSchema;

/** Reactions whose molar masses do not balance by more than this fraction are refused. */
const MASS_BALANCE_TOLERANCE = 1e-3;

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

/** Cross-references, limits and mass balances the schema cannot express. */
function consistencyIssues(recipe: Recipe): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  const species = new Map(recipe.species.map((s) => [s.id, s]));
  const feeds = new Map(recipe.feeds.map((f) => [f.id, f]));
  const reactions = new Map(recipe.reactions.map((r) => [r.id, r]));
  const tanks = new Map((recipe.tanks ?? []).map((t) => [t.id, t]));

  const unique = (kind: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) add(`${kind}[${id}]`, `duplicate id "${id}"`);
      seen.add(id);
    }
  };
  const collections: [string, { id: string }[]][] = [
    ['species', recipe.species],
    ['feeds', recipe.feeds],
    ['reactions', recipe.reactions],
    ['steps', recipe.steps],
    ['tanks', recipe.tanks ?? []],
  ];
  for (const [kind, items] of collections)
    unique(
      kind,
      items.map((item) => item.id),
    );
  const tags = recipe.steps.flatMap((step) => [
    ...step.inlets.map((inlet) => inlet.pump),
    step.thermostat.tag,
    step.backPressure.tag,
    ...(step.analyser ? [step.analyser.tag] : []),
  ]);
  const seenTags = new Set<string>();
  for (const tag of tags) {
    if (seenTags.has(tag)) add('steps', `device tag "${tag}" is used twice`);
    seenTags.add(tag);
  }

  const knownSpecies = (path: string, id: string) => {
    if (!species.has(id)) add(path, `unknown species "${id}"`);
  };

  for (const feed of recipe.feeds) {
    const path = `feeds[${feed.id}]`;
    for (const id of Object.keys(feed.concentrations))
      knownSpecies(`${path}.concentrations.${id}`, id);
    if (feed.phase === 'gas') {
      const entries = Object.entries(feed.concentrations);
      if (entries.length !== 1 || entries[0]?.[1] !== 1) {
        add(`${path}.concentrations`, 'a gas feed is one pure species, written with the value 1');
      }
    }
  }

  for (const reaction of recipe.reactions) {
    const path = `reactions[${reaction.id}]`;
    let net = 0;
    let gross = 0;
    let hasReactant = false;
    let hasProduct = false;
    for (const [id, nu] of Object.entries(reaction.stoichiometry)) {
      knownSpecies(`${path}.stoichiometry.${id}`, id);
      const molarMass = species.get(id)?.molarMass ?? 0;
      net += nu * molarMass;
      gross += Math.abs(nu * molarMass);
      hasReactant ||= nu < 0;
      hasProduct ||= nu > 0;
    }
    if (!hasReactant || !hasProduct) {
      add(
        `${path}.stoichiometry`,
        'needs at least one reactant (negative) and one product (positive)',
      );
    } else if (Math.abs(net) > MASS_BALANCE_TOLERANCE * gross) {
      add(`${path}.stoichiometry`, `is not mass-balanced: Σ ν·M = ${net.toFixed(3)} g/mol`);
    }
    for (const id of Object.keys(reaction.rateLaw.orders)) {
      knownSpecies(`${path}.rateLaw.orders.${id}`, id);
    }
  }

  const checkManipulated = (path: string, spec: ManipulatedSpec) => {
    if (spec.min > spec.max) add(path, `min ${spec.min} is above max ${spec.max}`);
    else if (spec.nominal < spec.min || spec.nominal > spec.max) {
      add(
        `${path}.nominal`,
        `${spec.nominal} is outside the engineering limits [${spec.min}, ${spec.max}]`,
      );
    }
  };

  const filledTanks = new Map<string, string>();
  const drainedTanks = new Set<string>();
  for (const step of recipe.steps) {
    const path = `steps[${step.id}]`;
    for (const id of step.reactions) {
      if (!reactions.has(id)) add(`${path}.reactions`, `unknown reaction "${id}"`);
    }
    knownSpecies(`${path}.keyReactant`, step.keyReactant);
    knownSpecies(`${path}.product`, step.product);
    for (const inlet of step.inlets) {
      const inletPath = `${path}.inlets[${inlet.pump}]`;
      checkManipulated(`${inletPath}.flow`, inlet.flow);
      if (inlet.flow.min < 0) add(`${inletPath}.flow.min`, 'a flow cannot be negative');
      if (inlet.feed !== undefined && !feeds.has(inlet.feed))
        add(`${inletPath}.feed`, `unknown feed "${inlet.feed}"`);
      if (inlet.tank !== undefined) {
        if (!tanks.has(inlet.tank)) add(`${inletPath}.tank`, `unknown tank "${inlet.tank}"`);
        const filler = filledTanks.get(inlet.tank);
        if (tanks.has(inlet.tank) && filler === undefined) {
          add(
            `${inletPath}.tank`,
            `tank "${inlet.tank}" is not filled by an earlier step (list steps in flow order)`,
          );
        }
        drainedTanks.add(inlet.tank);
      }
    }
    checkManipulated(`${path}.thermostat.setpoint`, step.thermostat.setpoint);
    checkManipulated(`${path}.backPressure.setpoint`, step.backPressure.setpoint);
    if (step.backPressure.setpoint.max > step.limits.maxPressure) {
      add(
        `${path}.backPressure.setpoint.max`,
        `is above the step's maxPressure ${step.limits.maxPressure} bar`,
      );
    }
    if (step.reactor.catalyst !== undefined && step.reactor.type !== 'packed-bed') {
      add(`${path}.reactor.catalyst`, 'only a packed-bed reactor holds a catalyst');
    }
    for (const [m, measure] of (step.analyser?.measures ?? []).entries()) {
      if (measure.species !== undefined)
        knownSpecies(`${path}.analyser.measures[${m}].species`, measure.species);
    }
    if (step.outletTank !== undefined) {
      if (!tanks.has(step.outletTank))
        add(`${path}.outletTank`, `unknown tank "${step.outletTank}"`);
      else if (filledTanks.has(step.outletTank)) {
        add(
          `${path}.outletTank`,
          `tank "${step.outletTank}" is already filled by step "${filledTanks.get(step.outletTank)}"`,
        );
      } else filledTanks.set(step.outletTank, step.id);
    }
    // A step without an outlet tank delivers to product collection.
  }
  for (const tank of recipe.tanks ?? []) {
    const path = `tanks[${tank.id}]`;
    if (!filledTanks.has(tank.id)) add(path, 'no step fills this tank');
    if (!drainedTanks.has(tank.id)) add(path, 'no step draws from this tank');
    const maxLevel = tank.maxLevel ?? tank.capacity;
    if (maxLevel > tank.capacity)
      add(`${path}.maxLevel`, `is above the capacity ${tank.capacity} L`);
    if ((tank.initialLevel ?? 0) > tank.capacity)
      add(`${path}.initialLevel`, `is above the capacity ${tank.capacity} L`);
    if ((tank.minLevel ?? 0) > maxLevel) add(`${path}.minLevel`, 'is above maxLevel');
  }
  knownSpecies('product', recipe.product);
  return issues;
}
