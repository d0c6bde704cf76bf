/** A part of the cell that runs until it is stopped. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/**
 * The parts started so far, in order: if a later part fails to start, those already running
 * are stopped again, newest first, so a failed start leaves no sockets, timers or files open.
 */
export class StartedParts {
  private readonly parts: Stoppable[] = [];

  add<T extends Stoppable>(part: T): T {
    this.parts.push(part);
    return part;
  }

  async stopAll(): Promise<void> {
    for (const part of this.parts.reverse()) await part.stop().catch(() => undefined);
  }
}
