import { Command, CommanderError } from 'commander';
import { EXIT_CHAIN_BROKEN, auditCommand } from './commands/audit.command';
import { calibrateCommand } from './commands/calibrate.command';
import { clientsCommand } from './commands/clients.command';
import { EXIT_ORACLE_BEATEN, evalCommand } from './commands/eval.command';
import { simCommand } from './commands/sim.command';
import { startCommand } from './commands/start.command';
import { trainCommand } from './commands/train.command';

/**
 * Exit codes: 0 done, 1 failed while running (solver failure, I/O), 2 bad input (recipe, table,
 * arguments), 3 the command ran but its evidence failed (an audit chain that does not verify,
 * an evaluation whose oracle was beaten).
 */
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

export function buildProgram(): Command {
  const program = new Command('pipac')
    .description('pipac: an autopilot for multi-step continuous-flow synthesis')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(startCommand());
  program.addCommand(simCommand());
  program.addCommand(calibrateCommand());
  program.addCommand(trainCommand());
  program.addCommand(evalCommand());
  program.addCommand(auditCommand());
  program.addCommand(clientsCommand());
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

/**
 * Codes of the typed errors that mean "the input must change": the recipe, the operating
 * conditions, the experiment table, the parameter list, the options, the arguments.
 * MODEL_FAILED (calibration) is not among them: the input was valid, the twin failed on it.
 */
const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'USAGE', // UsageError
  'RECIPE_INVALID', // RecipeError
  'CONDITIONS_INVALID', // ConditionsError
  'EXPERIMENTS_INVALID', // CalibrationError …
  'PARAMETER_INVALID',
  'OPTIONS_INVALID',
  'TOO_FEW_MEASUREMENTS',
  'NOT_IDENTIFIABLE',
  'SCENARIO_INVALID', // SimulationError (OPTIONS_INVALID too)
  'UNKNOWN_TANK',
  'UNKNOWN_STEP', // PlantModelError, ControlError
]);

/**
 * Codes of the typed errors of a run that failed on valid input: the ODE solvers
 * (RosenbrockError, Dop853Error) and a calibration whose model could not be solved. Their
 * message says what happened; a stack trace would add nothing for the user.
 */
const RUN_FAILURE_CODES: ReadonlySet<string> = new Set([
  'STEP_UNDERFLOW',
  'MAX_STEPS',
  'NOT_FINITE',
  'SINGULAR_MATRIX',
  'MODEL_FAILED',
]);

/**
 * Writes what went wrong to standard error and returns the exit code: 2 for bad input (with
 * its message), 1 for a failure while running (with its message when it is a known typed
 * error or a system error such as EACCES, with the full stack when it is unexpected).
 */
export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; --help and --version end here with 0.
    return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  }
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'AUDIT_CHAIN_BROKEN') {
    process.stderr.write(`pipac: ${message}\n`);
    return EXIT_CHAIN_BROKEN;
  }
  if (code === 'ORACLE_BEATEN') {
    process.stderr.write(`pipac: ${message}\n`);
    return EXIT_ORACLE_BEATEN;
  }
  if (code !== undefined && INPUT_ERROR_CODES.has(code)) {
    process.stderr.write(`pipac: ${message}\n`);
    return EXIT_BAD_INPUT;
  }
  if ((code !== undefined && RUN_FAILURE_CODES.has(code)) || isSystemError(error)) {
    process.stderr.write(`pipac: ${message}\n`);
    return EXIT_FAILED;
  }
  process.stderr.write(`pipac: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  return EXIT_FAILED;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A Node.js system error (file not found, permission denied…): its message says it all. */
function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { syscall?: unknown }).syscall === 'string';
}

/** Entry point of the `pipac` bin: runs the command line and sets the exit code. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`pipac: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
