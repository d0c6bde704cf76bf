/**
 * Version of the twin's model equations. Bump it when a change makes the same recipe and
 * setpoints behave differently (kinetics, reactor, heat, analyser models): model cards record
 * it, so an agent trained on an older twin is recognisable as such.
 */
export const TWIN_VERSION = '1.1.0';
