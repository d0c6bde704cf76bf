import { CommanderError } from 'commander';
import { PlantModelError, RecipeError } from '@pipac/recipe';
import {
  CalibrationError,
  ConditionsError,
  Dop853Error,
  RosenbrockError,
  SimulationError,
  type CalibrationErrorCode,
} from '@pipac/twin';
import { OracleBeatenError } from './commands/eval.command';
import { UsageError } from './format/usage.error';
import { reportError } from './main';

/** reportError's exit code and what it wrote to standard error. */
function report(error: unknown): { code: number; stderr: string } {
  let stderr = '';
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: reportError(error), stderr };
  } finally {
    err.mockRestore();
  }
}

describe('reportError (exit codes)', () => {
  it.each<[string, unknown]>([
    ['UsageError', new UsageError('--seed: "x" is not an integer')],
    ['RecipeError', new RecipeError([{ path: 'steps[a].reactor.volume', message: 'must be > 0' }])],
    ['ConditionsError', new ConditionsError('a.jacketTemperature: NaN is not a finite number')],
    [
      'SimulationError SCENARIO_INVALID',
      new SimulationError('SCENARIO_INVALID', 'unknown scenario "x"'),
    ],
    ['SimulationError UNKNOWN_TANK', new SimulationError('UNKNOWN_TANK', 'unknown tank tank-9')],
    ['PlantModelError UNKNOWN_STEP', new PlantModelError('UNKNOWN_STEP', 'unknown step x')],
    ...(
      [
        'EXPERIMENTS_INVALID',
        'PARAMETER_INVALID',
        'OPTIONS_INVALID',
        'TOO_FEW_MEASUREMENTS',
        'NOT_IDENTIFIABLE',
      ] as CalibrationErrorCode[]
    ).map((code): [string, unknown] => [
      `CalibrationError ${code}`,
      new CalibrationError(code, `bad input ${code}`),
    ]),
  ])('%s is bad input: exit 2, the message without a stack', (_name, error) => {
    const { code, stderr } = report(error);
    expect(code).toBe(2);
    expect(stderr).toBe(`pipac: ${(error as Error).message}\n`);
  });

  it.each<[string, Error]>([
    [
      'RosenbrockError STEP_UNDERFLOW',
      new RosenbrockError('STEP_UNDERFLOW', 3, 'ODE step size underflow at t=3'),
    ],
    [
      'RosenbrockError MAX_STEPS',
      new RosenbrockError('MAX_STEPS', 3, 'more than 1000 steps at t=3'),
    ],
    [
      'RosenbrockError SINGULAR_MATRIX',
      new RosenbrockError('SINGULAR_MATRIX', 3, 'singular at t=3'),
    ],
    [
      'Dop853Error NOT_FINITE',
      new Dop853Error('NOT_FINITE', 0, 'ODE right-hand side not finite at t=0'),
    ],
    [
      'CalibrationError MODEL_FAILED',
      new CalibrationError('MODEL_FAILED', 'the twin could not be solved'),
    ],
  ])('%s is a failure while running: exit 1, the message without a stack', (_name, error) => {
    // These are `retriable: false` too: that alone must not make them bad input.
    expect((error as { retriable?: boolean }).retriable).toBe(false);
    const { code, stderr } = report(error);
    expect(code).toBe(1);
    expect(stderr).toBe(`pipac: ${error.message}\n`);
  });

  it('reports a system error (I/O) with exit 1 and its message', () => {
    const error = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
      code: 'EACCES',
      syscall: 'open',
    });
    expect(report(error)).toEqual({ code: 1, stderr: `pipac: ${error.message}\n` });
  });

  it('reports an unexpected error, such as a plain Error from the numerics, with exit 1 and its stack', () => {
    const error = new Error('ODE integration exceeded 100000 steps at t=12');
    const { code, stderr } = report(error);
    expect(code).toBe(1);
    expect(stderr).toContain(error.message);
    expect(stderr).toMatch(/^\s+at /m);
    const typedButUnknown = Object.assign(new Error('odd'), {
      code: 'SOMETHING',
      retriable: false,
    });
    expect(report(typedButUnknown).code).toBe(1);
  });

  it('reports a beaten oracle with exit 3 and the scenarios, after the report', () => {
    const error = new OracleBeatenError([
      { scenario: 'nominal', target: 'x', met: false, detail: 'agent 105.0 %' },
    ]);
    expect(report(error)).toEqual({
      code: 3,
      stderr:
        'pipac: the oracle is no upper bound: nominal: agent 105.0 % above it beyond the interval\n',
    });
  });

  it('maps commander errors to 2, and --help / --version to 0', () => {
    expect(
      report(new CommanderError(1, 'commander.unknownOption', "unknown option '--x'")).code,
    ).toBe(2);
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')).code).toBe(0);
  });
});
