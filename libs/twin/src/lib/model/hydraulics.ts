import { type StepModel, BAR } from '@pipac/recipe';

/**
 * Pressure drop over the reactor at liquid flow q (L/s), bar.
 * - Coil (plug flow): Hagen–Poiseuille, Δp = 128 μ L Q / (π d⁴), laminar flow in a tube.
 * - Packed bed: the viscous (Blake–Kozeny) term of the Ergun equation,
 *   Δp = 150 μ (1 − ε)² u L / (ε³ d_p²), u the superficial velocity; laminar at flow-chemistry
 *   Reynolds numbers, which is why the inertial term is left out.
 * - Stirred tank: negligible.
 * `foulingFactor` ≥ 1 multiplies the drop (deposits narrowing the channel).
 */
export function pressureDrop(step: StepModel, q: number, foulingFactor = 1): number {
  if (q <= 0) return 0;
  return q * pressureDropCoefficient(step) * foulingFactor;
}

/** Pressure drop per unit flow, bar per L/s (both laws are linear in the flow). */
export function pressureDropCoefficient(step: StepModel): number {
  if (step.type === 'cstr') return 0;
  const volume = step.reactorVolume * 1e-3; // m³
  const d = step.innerDiameter;
  const area = (Math.PI * d * d) / 4;
  const length = volume / area;
  const perFlow = 1e-3; // 1 L/s in m³/s
  let dp: number;
  if (step.type === 'packed-bed' && step.catalyst) {
    const eps = step.catalyst.porosity;
    const dpart = step.catalyst.particleDiameter;
    const u = perFlow / area;
    dp = (150 * step.viscosity * (1 - eps) ** 2 * u * length) / (eps ** 3 * dpart * dpart);
  } else {
    dp = (128 * step.viscosity * length * perFlow) / (Math.PI * d ** 4);
  }
  return dp / BAR;
}
