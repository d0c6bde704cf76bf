/**
 * Names of the plant's reading tags, derived from the recipe's device tags. They are part of
 * the event contract: the device adapters publish SensorReadings under them, the step agents
 * and the coordinator read them.
 */

/**
 * Device id of a step's flow-reactor module: the `location.device` of the commands for its
 * pumps, jacket and back-pressure, and of its adapter's readings and confirmations.
 */
export function moduleDeviceId(step: string): string {
  return `${step}-module`;
}

/** Tag prefix of a step's reactor sensors (the recipe names no reactor tag). */
export function reactorTag(step: string): string {
  return `R-${step}`;
}

/** Reading tags of a control function: the target the device holds, and its current value. */
export const targetValueTag = (setpointTag: string) => `${setpointTag}.SP`;
export const currentValueTag = (setpointTag: string) => `${setpointTag}.PV`;

/** Reading tags of a step's reactor sensors. */
export function reactorSensorTags(step: string): {
  hotSpot: string;
  outlet: string;
  inletPressure: string;
} {
  const reactor = reactorTag(step);
  return {
    hotSpot: `${reactor}.TI-hot`,
    outlet: `${reactor}.TI-out`,
    inletPressure: `${reactor}.PI-in`,
  };
}

/** Reading tag of one analyser measure: `<analyser>.conversion` or `<analyser>.<species>`. */
export function analyserMeasureTag(
  analyser: string,
  measure: { quantity: string; species?: string },
): string {
  return measure.quantity === 'conversion'
    ? `${analyser}.conversion`
    : `${analyser}.${measure.species ?? ''}`;
}

/**
 * Reading tag of a surge tank's level transmitter, L. The tank's level sensor is part of the
 * module of the step that fills it, so its readings travel on that step's sensor topic.
 */
export function tankLevelTag(tank: string): string {
  return `${tank}.LI`;
}
