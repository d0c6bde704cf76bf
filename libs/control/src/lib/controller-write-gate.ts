/** NAMUR MTP operating modes of a step. */
export type StepOperatingMode = 'offline' | 'operator' | 'automatic';

/**
 * Whether a controller (the agent, or its fallback) may still write a step's setpoints: the last
 * word, by its time, decides. An operator's own setpoint command ends Automatic (the agent yields
 * as soon as it sees it), so from that command's issue time on, controller writes are refused
 * until the step is announced in Automatic again at a later time; a mode request or an agent's
 * mode feedback sets the mode it names. Until anything is known, controllers may write (an agent
 * that was never switched). MTP: the operator always wins, also over a controller command that
 * was already on its way when the operator acted.
 *
 * Times are the issuers' own (ms since the epoch, the cell's clock): events may arrive out of
 * order across topics, and an older one never overrides a newer one.
 */
export class ControllerWriteGate {
  private mode: StepOperatingMode | undefined;
  private since = Number.NEGATIVE_INFINITY;
  private why = '';

  /** An operator's setpoint command issued at `at`: the step leaves Automatic. */
  operatorWrote(at: number, by: string): void {
    this.set('operator', at, `${by} took the hand with a setpoint`);
  }

  /** A mode requested or announced for the step at `at`. */
  modeChanged(mode: StepOperatingMode, at: number, by: string): void {
    this.set(mode, at, `${by} set ${mode}`);
  }

  /** Undefined when a controller may write now, else why not. */
  refusal(): string | undefined {
    if (this.mode === undefined || this.mode === 'automatic') return undefined;
    return `the step is in ${this.mode === 'operator' ? 'Operator' : 'Offline'} mode since ${new Date(this.since).toISOString()} (${this.why}): a controller may not write`;
  }

  private set(mode: StepOperatingMode, at: number, why: string): void {
    if (!Number.isFinite(at) || at < this.since) return;
    this.mode = mode;
    this.since = at;
    this.why = why;
  }
}
