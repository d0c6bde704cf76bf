/**
 * Progress of a long run on standard error: a line rewritten in place on a terminal, a line
 * every 10 % otherwise (CI logs), nothing when PIPAC_QUIET is set.
 */
export class ProgressReporter {
  private lastPercent = -1;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;
  private readonly quiet = process.env['PIPAC_QUIET'] !== undefined;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (this.quiet || this.total <= 0) return;
    const percent = Math.floor((100 * done) / this.total);
    if (percent === this.lastPercent || (!this.tty && percent % 10 !== 0)) return;
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
