/** A source of time in seconds. Services pass a wall clock; the twin, tests and training a manual one. */
export interface Clock {
  now(): number;
}

/** A clock that only moves when told: the plant sets it as it advances, so runs replay exactly. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  set(t: number): void {
    this.t = t;
  }
}
