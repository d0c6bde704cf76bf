// Step-size control as in rodas.f (HW II, §IV.8): h_new = h / fac with
// fac = err^(1/4) / SAFETY limited to [1/MAX_GROWTH, 1/MIN_SHRINK], and Gustafsson's
// predictive controller (HW II, §IV.8) from the second accepted step on.
const SAFETY = 0.9;
const MAX_GROWTH = 6;
const MIN_SHRINK = 0.2;
/** Step-size factor after a rejection before the first accepted step (rodas.f: 0.1). */
const FIRST_REJECT_SHRINK = 0.1;

/**
 * The step-size controller of one Rosenbrock integration: what the next step size is after
 * an accepted or a rejected step. Holds the history Gustafsson's controller needs; `reset`
 * starts a new integration. Allocates nothing per step.
 */
export class RosenbrockStepControl {
  private acceptedSteps = 0;
  private previousStep = 0;
  private previousError = 0;
  private rejectedLast = false;

  reset(): void {
    this.acceptedSteps = 0;
    this.previousStep = 0;
    this.previousError = 0;
    this.rejectedLast = false;
  }

  /** The next step after an accepted step h with error err ≤ 1; never larger than h right after a rejection. */
  accepted(h: number, err: number): number {
    let fac = stepFactor(err);
    this.acceptedSteps++;
    if (this.acceptedSteps > 1) {
      // Gustafsson's predictive controller, as in rodas.f.
      const predicted =
        ((this.previousStep / h) * ((err * err) / this.previousError) ** 0.25) / SAFETY;
      fac = Math.max(fac, Math.min(1 / MIN_SHRINK, Math.max(1 / MAX_GROWTH, predicted)));
    }
    this.previousStep = h;
    this.previousError = Math.max(1e-2, err);
    let hNew = h / fac;
    if (this.rejectedLast) hNew = Math.min(hNew, h);
    this.rejectedLast = false;
    return hNew;
  }

  /** The next trial after a step h rejected with error err > 1. */
  rejected(h: number, err: number): number {
    const fac = stepFactor(err);
    this.rejectedLast = true;
    return this.acceptedSteps === 0 ? h * FIRST_REJECT_SHRINK : h / fac;
  }

  /** A step given up before its error was known (singular matrix, non-finite stages). */
  abandoned(): void {
    this.rejectedLast = true;
  }
}

function stepFactor(err: number): number {
  return Math.min(1 / MIN_SHRINK, Math.max(1 / MAX_GROWTH, err ** 0.25 / SAFETY));
}
