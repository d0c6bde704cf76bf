/** Right-hand side y' = f(t, y), written into dydt. Must not keep references to y or dydt. */
export type Derivative = (t: number, y: Float64Array, dydt: Float64Array) => void;

/** Work counters of an integrator, accumulated over its calls. */
export interface IntegrationStats {
  accepted: number;
  rejected: number;
  evaluations: number;
}
