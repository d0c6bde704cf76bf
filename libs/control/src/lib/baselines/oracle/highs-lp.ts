import highsLoader from 'highs';
import { ControlError } from '../../control.error';
import type { LpSolver } from './throughput-plan';

/**
 * The oracle's LP solver: HiGHS (University of Edinburgh), compiled to WebAssembly by the
 * `highs` package; loaded once per process (≈ 40 ms), then synchronous (a few ms a plan).
 */
let loading: Promise<LpSolver> | undefined;

export function loadLpSolver(): Promise<LpSolver> {
  loading ??= highsLoader().then((highs) => ({
    solve(lp: string) {
      // Quiet: HiGHS logs every solve to stdout by default, which `--format json` reserves.
      const result = highs.solve(lp, { output_flag: false, log_to_console: false });
      const columns: Record<string, number> = {};
      if (result.Status === 'Optimal') {
        // An optimal LP's columns all carry their primal value.
        const solved = result.Columns as Record<string, { Primal: number }>;
        for (const [name, column] of Object.entries(solved)) columns[name] = column.Primal;
      }
      return { status: result.Status, objective: result.ObjectiveValue, columns };
    },
  }));
  return loading.catch((error: unknown) => {
    loading = undefined;
    throw new ControlError('PLAN_FAILED', `cannot load the LP solver: ${String(error)}`, {
      cause: error,
    });
  });
}
