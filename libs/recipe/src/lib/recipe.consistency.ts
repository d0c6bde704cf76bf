import type { RecipeIssue } from './recipe.error';
import type {
  FeedSpec,
  InletSpec,
  ManipulatedSpec,
  ReactionSpec,
  Recipe,
  SpeciesSpec,
  StepSpec,
  TankSpec,
} from './recipe.types';

/** Reactions whose molar masses do not balance by more than this fraction are refused. */
const MASS_BALANCE_TOLERANCE = 1e-3;

/**
 * Cross-references, limits and mass balances the schema cannot express, for a document that
 * passed the schema. The issues come in the order of the recipe's sections.
 */
export function consistencyIssues(recipe: Recipe): RecipeIssue[] {
  return new ConsistencyCheck(recipe).run();
}

class ConsistencyCheck {
  private readonly issues: RecipeIssue[] = [];
  private readonly species: Map<string, SpeciesSpec>;
  private readonly feeds: Set<string>;
  private readonly reactions: Set<string>;
  private readonly tanks: Set<string>;
  /** Tank id → the step that fills it, as far as the steps (in flow order) have been read. */
  private readonly filledTanks = new Map<string, string>();
  private readonly drainedTanks = new Set<string>();

  constructor(private readonly recipe: Recipe) {
    this.species = new Map(recipe.species.map((s) => [s.id, s]));
    this.feeds = new Set(recipe.feeds.map((f) => f.id));
    this.reactions = new Set(recipe.reactions.map((r) => r.id));
    this.tanks = new Set((recipe.tanks ?? []).map((t) => t.id));
  }

  run(): RecipeIssue[] {
    this.checkUniqueIds();
    this.checkUniqueDeviceTags();
    for (const feed of this.recipe.feeds) this.checkFeed(feed);
    for (const reaction of this.recipe.reactions) this.checkReaction(reaction);
    for (const step of this.recipe.steps) this.checkStep(step);
    for (const tank of this.recipe.tanks ?? []) this.checkTank(tank);
    this.knownSpecies('product', this.recipe.product);
    return this.issues;
  }

  private add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  private knownSpecies(path: string, id: string): void {
    if (!this.species.has(id)) this.add(path, `unknown species "${id}"`);
  }

  private checkUniqueIds(): void {
    const collections: [string, { id: string }[]][] = [
      ['species', this.recipe.species],
      ['feeds', this.recipe.feeds],
      ['reactions', this.recipe.reactions],
      ['steps', this.recipe.steps],
      ['tanks', this.recipe.tanks ?? []],
    ];
    for (const [kind, items] of collections) {
      const seen = new Set<string>();
      for (const { id } of items) {
        if (seen.has(id)) this.add(`${kind}[${id}]`, `duplicate id "${id}"`);
        seen.add(id);
      }
    }
  }

  private checkUniqueDeviceTags(): void {
    const tags = this.recipe.steps.flatMap((step) => [
      ...step.inlets.map((inlet) => inlet.pump),
      step.thermostat.tag,
      step.backPressure.tag,
      ...(step.analyser ? [step.analyser.tag] : []),
    ]);
    const seen = new Set<string>();
    for (const tag of tags) {
      if (seen.has(tag)) this.add('steps', `device tag "${tag}" is used twice`);
      seen.add(tag);
    }
  }

  private checkFeed(feed: FeedSpec): void {
    const path = `feeds[${feed.id}]`;
    for (const id of Object.keys(feed.concentrations)) {
      this.knownSpecies(`${path}.concentrations.${id}`, id);
    }
    if (feed.phase === 'gas') {
      const entries = Object.entries(feed.concentrations);
      if (entries.length !== 1 || entries[0]?.[1] !== 1) {
        this.add(
          `${path}.concentrations`,
          'a gas feed is one pure species, written with the value 1',
        );
      }
    }
  }

  private checkReaction(reaction: ReactionSpec): void {
    const path = `reactions[${reaction.id}]`;
    let net = 0;
    let gross = 0;
    let hasReactant = false;
    let hasProduct = false;
    for (const [id, nu] of Object.entries(reaction.stoichiometry)) {
      this.knownSpecies(`${path}.stoichiometry.${id}`, id);
      const molarMass = this.species.get(id)?.molarMass ?? 0;
      net += nu * molarMass;
      gross += Math.abs(nu * molarMass);
      hasReactant ||= nu < 0;
      hasProduct ||= nu > 0;
    }
    if (!hasReactant || !hasProduct) {
      this.add(
        `${path}.stoichiometry`,
        'needs at least one reactant (negative) and one product (positive)',
      );
    } else if (Math.abs(net) > MASS_BALANCE_TOLERANCE * gross) {
      this.add(`${path}.stoichiometry`, `is not mass-balanced: Σ ν·M = ${net.toFixed(3)} g/mol`);
    }
    for (const id of Object.keys(reaction.rateLaw.orders)) {
      this.knownSpecies(`${path}.rateLaw.orders.${id}`, id);
    }
    for (const id of Object.keys(reaction.rateLaw.reverse?.orders ?? {})) {
      this.knownSpecies(`${path}.rateLaw.reverse.orders.${id}`, id);
    }
    for (const id of Object.keys(reaction.rateLaw.adsorption?.species ?? {})) {
      this.knownSpecies(`${path}.rateLaw.adsorption.species.${id}`, id);
    }
  }

  private checkStep(step: StepSpec): void {
    const path = `steps[${step.id}]`;
    for (const id of step.reactions) {
      if (!this.reactions.has(id)) this.add(`${path}.reactions`, `unknown reaction "${id}"`);
    }
    let chosen = 0;
    for (const [name, choice] of Object.entries(step.choices ?? {})) {
      const at = `${path}.choices.${name}`;
      if (!Object.hasOwn(choice.options, choice.default))
        this.add(
          `${at}.default`,
          `"${choice.default}" is not one of its options (${Object.keys(choice.options).join(', ')})`,
        );
      for (const [option, { reactions }] of Object.entries(choice.options)) {
        for (const id of reactions) {
          if (!this.reactions.has(id))
            this.add(`${at}.options.${option}.reactions`, `unknown reaction "${id}"`);
          else if (step.reactions.includes(id))
            this.add(
              `${at}.options.${option}.reactions`,
              `"${id}" is one of the step's own reactions already: list it in one place`,
            );
        }
      }
      if (Object.hasOwn(choice.options, choice.default))
        chosen += choice.options[choice.default]!.reactions.length;
    }
    if (step.reactions.length + chosen === 0)
      this.add(
        `${path}.reactions`,
        'the step runs no reaction (none listed, none chosen by default)',
      );
    this.knownSpecies(`${path}.keyReactant`, step.keyReactant);
    this.knownSpecies(`${path}.product`, step.product);
    for (const inlet of step.inlets) this.checkInlet(inlet, `${path}.inlets[${inlet.pump}]`);
    this.checkManipulated(`${path}.thermostat.setpoint`, step.thermostat.setpoint);
    this.checkManipulated(`${path}.backPressure.setpoint`, step.backPressure.setpoint);
    if (step.backPressure.setpoint.max > step.limits.maxPressure) {
      this.add(
        `${path}.backPressure.setpoint.max`,
        `is above the step's maxPressure ${step.limits.maxPressure} bar`,
      );
    }
    if (step.reactor.catalyst !== undefined && step.reactor.type !== 'packed-bed') {
      this.add(`${path}.reactor.catalyst`, 'only a packed-bed reactor holds a catalyst');
    }
    for (const [m, measure] of (step.analyser?.measures ?? []).entries()) {
      if (measure.species !== undefined)
        this.knownSpecies(`${path}.analyser.measures[${m}].species`, measure.species);
    }
    // A step without an outlet tank delivers to product collection.
    if (step.outletTank !== undefined) this.checkOutletTank(step.outletTank, step.id, path);
  }

  private checkInlet(inlet: InletSpec, path: string): void {
    this.checkManipulated(`${path}.flow`, inlet.flow);
    if (inlet.flow.min < 0) this.add(`${path}.flow.min`, 'a flow cannot be negative');
    if (inlet.feed !== undefined && !this.feeds.has(inlet.feed))
      this.add(`${path}.feed`, `unknown feed "${inlet.feed}"`);
    if (inlet.tank !== undefined) {
      if (!this.tanks.has(inlet.tank)) this.add(`${path}.tank`, `unknown tank "${inlet.tank}"`);
      else if (!this.filledTanks.has(inlet.tank)) {
        this.add(
          `${path}.tank`,
          `tank "${inlet.tank}" is not filled by an earlier step (list steps in flow order)`,
        );
      }
      this.drainedTanks.add(inlet.tank);
    }
  }

  private checkOutletTank(tank: string, stepId: string, path: string): void {
    const filler = this.filledTanks.get(tank);
    if (!this.tanks.has(tank)) this.add(`${path}.outletTank`, `unknown tank "${tank}"`);
    else if (filler !== undefined) {
      this.add(`${path}.outletTank`, `tank "${tank}" is already filled by step "${filler}"`);
    } else this.filledTanks.set(tank, stepId);
  }

  private checkManipulated(path: string, spec: ManipulatedSpec): void {
    if (spec.min > spec.max) this.add(path, `min ${spec.min} is above max ${spec.max}`);
    else if (spec.nominal < spec.min || spec.nominal > spec.max) {
      this.add(
        `${path}.nominal`,
        `${spec.nominal} is outside the engineering limits [${spec.min}, ${spec.max}]`,
      );
    }
  }

  private checkTank(tank: TankSpec): void {
    const path = `tanks[${tank.id}]`;
    if (!this.filledTanks.has(tank.id)) this.add(path, 'no step fills this tank');
    if (!this.drainedTanks.has(tank.id)) this.add(path, 'no step draws from this tank');
    const maxLevel = tank.maxLevel ?? tank.capacity;
    if (maxLevel > tank.capacity)
      this.add(`${path}.maxLevel`, `is above the capacity ${tank.capacity} L`);
    if ((tank.initialLevel ?? 0) > tank.capacity)
      this.add(`${path}.initialLevel`, `is above the capacity ${tank.capacity} L`);
    if ((tank.minLevel ?? 0) > maxLevel) this.add(`${path}.minLevel`, 'is above maxLevel');
  }
}
