import { Command, CommanderError } from 'commander';
import { RecipeError } from '@pipac/twin';
import { calibrateCommand } from './commands/calibrate.command';
import { simCommand } from './commands/sim.command';
import { UsageError } from './format/usage.error';

/** Exit codes: 0 done, 1 failed while running, 2 bad input (recipe, table, arguments). */
const EXIT_BAD_INPUT = 2;

export function buildProgram(): Command {
  const program = new Command('pipac')
    .description('pipac: an autopilot for multi-step continuous-flow synthesis')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(simCommand());
  program.addCommand(calibrateCommand());
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (error instanceof RecipeError || error instanceof UsageError || isBadInput(error)) {
      process.stderr.write(`pipac: ${(error as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`pipac: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** Typed errors from the libraries that mean "the input must change". */
function isBadInput(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { retriable?: unknown }).retriable === false
  );
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
