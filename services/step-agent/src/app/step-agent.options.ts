import type { EventBus } from '@pipac/bus';
import type { ConversionPidTuning, StepMode } from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';

export interface StepAgentOptions {
  site: string;
  cell: string;
  step: string;
  model: PlantModel;
  bus: EventBus;
  /** Deployed models: <modelsDir>/<step>/policy.onnx with its card. */
  modelsDir: string;
  /** Control cycle, ms. @default 60,000 */
  cycleMs?: number;
  /** Run cycles on a timer; tests call cycle() themselves. @default true */
  autoCycle?: boolean;
  /** Mode at start: a starting agent does not take control by itself. @default 'operator' */
  mode?: StepMode;
  /** Propose only: decide every cycle, publish status, never a command. @default false */
  shadow?: boolean;
  /** Check the models folder for a new policy this often, ms; 0 never. @default 5000 */
  modelPollMs?: number;
  /**
   * Longest a policy inference may take, wall-clock ms; past it the cycle goes on with the
   * fallback (a hung or failing model hands over within one cycle). @default cycleMs / 4
   */
  policyDeadlineMs?: number;
  /** PID fallback tuning. @default SIMC from a step test on the twin (tuneConversionPid) */
  fallbackTuning?: ConversionPidTuning;
  /** ms since the epoch. @default Date.now */
  clock?: () => number;
  /**
   * Plant ms per wall-clock ms, for the commands' deadlines. @default measured from `clock`
   * against the wall clock (see CommandDeadline)
   */
  timeFactor?: number;
  /**
   * Shortest life of a setpoint command, wall-clock ms; a command lives one cycle otherwise,
   * both in `clock`'s time. @default 2000
   */
  deadlineFloorMs?: number;
  /** Consumer group prefix. @default 'step-agent' */
  group?: string;
  log?: (line: string) => void;
}
