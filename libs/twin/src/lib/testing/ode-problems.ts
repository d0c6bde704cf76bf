import type { Derivative } from '../numerics/ode.types';

/** Test problems with known solutions, for the integrators' specs. */

/** y' = −y: y(t) = y0·e^(−t). */
export const decay: Derivative = (_t, y, dydt) => {
  dydt[0] = -y[0]!;
};

/** y' = λy: y(t) = y0·e^(λt). */
export function linear(lambda: number): Derivative {
  return (_t, y, dydt) => {
    dydt[0] = lambda * y[0]!;
  };
}

/** y'' = −ω²y as [y, y']: y(t) = cos(ωt) from [1, 0]. */
export function oscillator(omega: number): Derivative {
  return (_t, y, dydt) => {
    dydt[0] = y[1]!;
    dydt[1] = -omega * omega * y[0]!;
  };
}
