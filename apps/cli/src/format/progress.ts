export interface ProgressOptions {
  /** Rewrite one line in place (a terminal) rather than print lines. @default process.stderr.isTTY */
  tty?: boolean;
}

/**
 * Progress of a long run on standard error: a line rewritten in place on a terminal, a line
 * each time a 10 % boundary is crossed otherwise (CI logs), nothing when PIPAC_QUIET is set.
 */
export class ProgressReporter {
  private lastPercent = -1;
  /** Highest 10 % boundary already reported (0 to 10), for the line-per-boundary mode. */
  private lastDecile = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;
  private readonly quiet = process.env['PIPAC_QUIET'] !== undefined;

  constructor(
    private readonly label: string,
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.tty = options.tty ?? process.stderr.isTTY === true;
  }

  update(done: number): void {
    if (this.quiet || this.total <= 0) return;
    const percent = Math.min(100, Math.floor((100 * done) / this.total));
    if (this.tty) {
      if (percent === this.lastPercent) return;
    } else {
      // Updates rarely land on a multiple of 10: report the first one at or past each
      // boundary, so no boundary is skipped and none is reported twice.
      const decile = Math.floor(percent / 10);
      if (decile <= this.lastDecile) return;
      this.lastDecile = decile;
    }
    this.lastPercent = percent;
    const elapsed = (Date.now() - this.started) / 1000;
    const line = `${this.label}: ${percent}% (${elapsed.toFixed(1)} s)`;
    process.stderr.write(this.tty ? `\r${line}` : `${line}\n`);
  }

  done(): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write('\n');
  }
}
