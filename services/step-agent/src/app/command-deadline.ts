import { performance } from 'node:perf_hooks';

export interface CommandDeadlineOptions {
  /** The agent's clock, ms since the epoch: plant time (the adapter checks the deadline on the same clock). */
  clock: () => number;
  /** The control cycle, wall-clock ms (the agent's timer period). */
  cycleMs: number;
  /**
   * Plant ms per wall-clock ms. @default measured: how far `clock` moved against `wallClock`
   * since the agent started (1 for a clock that is the wall clock)
   */
  timeFactor?: number;
  /**
   * The shortest a command lives, wall-clock ms: the transport's real latency does not shrink
   * when the plant runs faster. Measured from the agent's decision to the adapter's receipt,
   * embedded at 120× with two busy processes beside the cell (services/cell/bench/
   * deadline.bench.ts): p50 0.3 s, p95 2.0 s. No longer: what is late beyond that waits in a
   * backlog behind the adapter's OPC UA writes, and a longer life only lengthens the backlog
   * (a 5 s floor measured p50 5 s and half the commands expired); the deadline is what keeps
   * a stale command from being written. @default 2000
   */
  floorWallMs?: number;
  /** Monotonic wall clock, ms. @default performance.now */
  wallClock?: () => number;
}

/** Wall time the clock must have run before its rate is measured, ms (shorter: noise). */
const MIN_MEASURED_WALL_MS = 100;

/**
 * The deadline of a setpoint command on the agent's own clock, which is the plant's: in the
 * embedded cell plant time runs `timeFactor` times faster than the wall clock, so a deadline
 * of one cycle's wall-clock length (500 ms of a 60 s cycle at 120×) added to a plant-time
 * issue time expired before any transport could carry it (issue 13, item 9: a command was
 * refused whenever the simulator's plant clock, which moves in 12 s steps at 120×, stepped
 * while it was on its way). A command lives one control cycle, and never
 * less than `floorWallMs` of wall clock, both converted to plant ms at the clock's rate; a
 * newer command for the same tag follows it in order on its partition, so a long deadline
 * never lets an older value win.
 */
export class CommandDeadline {
  private readonly wallClock: () => number;
  private readonly startPlant: number;
  private readonly startWall: number;

  constructor(private readonly options: CommandDeadlineOptions) {
    this.wallClock = options.wallClock ?? (() => performance.now());
    this.startPlant = options.clock();
    this.startWall = this.wallClock();
  }

  /** Plant ms per wall ms, at least 1: a frozen or slow clock never shortens a command's life. */
  get timeFactor(): number {
    if (this.options.timeFactor !== undefined) return this.options.timeFactor;
    const wall = this.wallClock() - this.startWall;
    if (wall < MIN_MEASURED_WALL_MS) return 1;
    return Math.max(1, (this.options.clock() - this.startPlant) / wall);
  }

  /** The wall-clock life of a command, ms. */
  get wallMs(): number {
    return Math.max(this.options.cycleMs, this.options.floorWallMs ?? 2000);
  }

  /** The deadline of a command issued at `issuedAt` (plant ms). */
  deadline(issuedAt: number): number {
    return issuedAt + Math.ceil(this.wallMs * this.timeFactor);
  }
}
