/**
 * Topic names: an ISA-95 path, `pipac.<site>.<cell>.<step>.<stream>` (United Manufacturing
 * Hub style), keyed by device or tag so one asset's events stay in order. Last-value
 * streams are compacted. Malformed events of a cell go to `pipac.<site>.<cell>.dead-letter`.
 */
export const STREAMS = {
  sensors: { compacted: false, description: 'SensorReading, keyed by tag' },
  setpoints: { compacted: true, description: 'SetpointCommand, keyed by target tag (last value)' },
  confirmations: { compacted: false, description: 'WriteConfirmation, keyed by target tag' },
  state: { compacted: true, description: 'DeviceState, keyed by device or step (last value)' },
  status: { compacted: false, description: 'StepStatus, keyed by step' },
  targets: { compacted: true, description: 'ThroughputTarget, keyed by step (last value)' },
  alarms: { compacted: false, description: 'Alarm, keyed by alarm id' },
} as const;

export type Stream = keyof typeof STREAMS;

export interface TopicPath {
  site: string;
  cell: string;
  step: string;
  stream: Stream;
}

/** A path segment: lower-case letters, digits and hyphens (the topic separator is the dot). */
const SEGMENT = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class TopicError extends Error {
  readonly code = 'TOPIC_INVALID';
  readonly retriable = false;
}

function segment(name: string, value: string): string {
  if (!SEGMENT.test(value)) {
    throw new TopicError(
      `${name} "${value}" must be lower-case letters, digits and hyphens (at most 63)`,
    );
  }
  return value;
}

export function topicName(path: TopicPath): string {
  if (!(path.stream in STREAMS)) throw new TopicError(`unknown stream "${path.stream}"`);
  return [
    'pipac',
    segment('site', path.site),
    segment('cell', path.cell),
    segment('step', path.step),
    path.stream,
  ].join('.');
}

export function deadLetterTopic(site: string, cell: string): string {
  return ['pipac', segment('site', site), segment('cell', cell), 'dead-letter'].join('.');
}

/** The inverse of topicName; throws TopicError for anything else. */
export function parseTopic(topic: string): TopicPath {
  const parts = topic.split('.');
  const [prefix, site, cell, step, stream] = parts;
  if (
    parts.length !== 5 ||
    prefix !== 'pipac' ||
    !site ||
    !cell ||
    !step ||
    !stream ||
    !(stream in STREAMS)
  ) {
    throw new TopicError(`"${topic}" is not a pipac.<site>.<cell>.<step>.<stream> topic`);
  }
  return {
    site: segment('site', site),
    cell: segment('cell', cell),
    step: segment('step', step),
    stream: stream as Stream,
  };
}

/** Every stream's topic of one step, compacted where the stream is last-value (for ensureTopics). */
export function stepTopics(
  site: string,
  cell: string,
  step: string,
): { name: string; compacted: boolean }[] {
  return (Object.keys(STREAMS) as Stream[]).map((stream) => ({
    name: topicName({ site, cell, step, stream }),
    compacted: STREAMS[stream].compacted,
  }));
}

/**
 * A step's mode on its `state` topic (a DeviceState with no device), after NAMUR MTP's
 * request/feedback pair: a person's request leaves `state` empty; the step agent answers
 * with the mode it took, who asked and why, and this `state`.
 */
export const STEP_MODE_FEEDBACK = 'ModeFeedback';
