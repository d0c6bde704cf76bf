/**
 * @pipac/twin: the digital twin of the plant. Its folders are layered; a folder imports only
 * from the layers below it (and `@pipac/recipe`, the compiled plant model), never upward:
 *
 *   calibration   dynamics        fit kinetics to experiments │ the plant over time
 *        └───────┬───┘
 *              steady            the steady state of a step and of the plant
 *   kinetics   safety   figures  rate laws │ engineering limits │ key figures
 *   numerics   random   clock   model      integrators │ seeded random │ clock │ hydraulics
 *
 * `testing` holds helpers for the specs only (expectClose, ODE problems, the DOPRI5
 * reference integrator) and is not exported.
 */
export * from './lib/numerics/ode.types';
export * from './lib/numerics/rosenbrock';
export * from './lib/numerics/dop853';
export * from './lib/random/seeded-random';
export * from './lib/clock/manual-clock';
export * from './lib/model/hydraulics';
export * from './lib/kinetics/rate-kernel.error';
export * from './lib/safety/limits';
export * from './lib/figures/key-figures';
export * from './lib/steady/steady-state.types';
export * from './lib/steady/steady-state';
export * from './lib/steady/conditions.error';
export * from './lib/dynamics/disturbances';
export * from './lib/dynamics/analyser';
export * from './lib/dynamics/step-unit';
export * from './lib/dynamics/plant';
export * from './lib/dynamics/plant-report';
export * from './lib/dynamics/simulation.error';
export * from './lib/dynamics/real-plant';
export * from './lib/calibration';
export * from './lib/twin-version';
