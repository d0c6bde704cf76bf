/** One thing wrong with a recipe: the field, by path, and the reason. */
export interface RecipeIssue {
  /** Field path such as `steps[nitration].reactor.volume`. */
  path: string;
  message: string;
}

/** A recipe that failed schema or consistency checks. Not retriable: the input must change. */
export class RecipeError extends Error {
  readonly code = 'RECIPE_INVALID';
  readonly retriable = false;

  constructor(
    readonly issues: readonly RecipeIssue[],
    readonly source?: string,
  ) {
    super(
      `invalid recipe${source ? ` ${source}` : ''}:\n` +
        issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}`).join('\n'),
    );
    this.name = 'RecipeError';
  }
}
