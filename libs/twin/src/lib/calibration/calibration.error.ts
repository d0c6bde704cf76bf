/**
 * Why a calibration could not run. All codes but MODEL_FAILED mean the input must change
 * (table, parameter list, options); none is retriable.
 */
export type CalibrationErrorCode =
  /** The experiment table is malformed or does not match the recipe; `issues` name row and column. */
  | 'EXPERIMENTS_INVALID'
  /** A parameter path is malformed or names something the recipe lacks. */
  | 'PARAMETER_INVALID'
  /** An option (sigma, noise, design, confidence level…) is out of range or malformed. */
  | 'OPTIONS_INVALID'
  /** Fewer measurements than fitted parameters plus one: no residual degrees of freedom. */
  | 'TOO_FEW_MEASUREMENTS'
  /** The experiments cannot determine a parameter (it affects no measurement, or two are collinear). */
  | 'NOT_IDENTIFIABLE'
  /** The twin could not be solved at the starting values. */
  | 'MODEL_FAILED';

/** One thing wrong with the input, located as precisely as the input allows. */
export interface CalibrationIssue {
  /** 1-based data row of the experiment table (the header is not a row). */
  row?: number;
  /** Line in the source file, where known (CSV). */
  line?: number;
  /** Column name as written in the table header, or the option / parameter concerned. */
  column?: string;
  message: string;
}

export class CalibrationError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: CalibrationErrorCode,
    message: string,
    readonly issues: readonly CalibrationIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(
      issues.length === 0
        ? message
        : `${message}:\n${issues.map((i) => `  - ${describeIssue(i)}`).join('\n')}`,
      options,
    );
    this.name = 'CalibrationError';
  }
}

/** `row 3 (line 5), column "flow:P-1": "abc" is not a number`; a header problem has a line but no row. */
export function describeIssue(issue: CalibrationIssue): string {
  const where: string[] = [];
  if (issue.row !== undefined)
    where.push(
      issue.line !== undefined ? `row ${issue.row} (line ${issue.line})` : `row ${issue.row}`,
    );
  else if (issue.line !== undefined) where.push(`line ${issue.line}`);
  if (issue.column !== undefined) where.push(`column "${issue.column}"`);
  return where.length > 0 ? `${where.join(', ')}: ${issue.message}` : issue.message;
}
