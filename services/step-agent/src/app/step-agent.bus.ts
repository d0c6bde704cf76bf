import {
  publishEvent,
  subscribeAll,
  subscribeEvents,
  type EventBus,
  type Subscription,
} from '@pipac/bus';
import {
  STREAMS,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  setpointCommandCodec,
  stepStatusCodec,
  throughputTargetCodec,
  topicName,
  type DeviceState,
  type SensorReading,
  type SetpointCommand,
  type StepStatus,
  type ThroughputTarget,
} from '@pipac/contracts';
import type { StepAddress } from './step-address';

/** The streams of its step an agent reads or writes. */
const AGENT_STREAMS = ['sensors', 'setpoints', 'status', 'state', 'targets'] as const;
type AgentStream = (typeof AGENT_STREAMS)[number];

/** What the agent does with each event it subscribes to. */
export interface StepAgentHandlers {
  reading(reading: SensorReading): void;
  target(target: ThroughputTarget): void;
  modeRequest(state: DeviceState): void;
  setpointCommand(command: SetpointCommand): void;
}

/**
 * The step agent's side of the bus: its step's topics (names from the contracts, compacted
 * where the contract's stream is a last-value one), its four subscriptions, and the events it
 * publishes, each keyed so that one asset's events stay in order.
 */
export class StepAgentBus {
  private readonly topics: Record<AgentStream, string>;
  private readonly deadLetter: string;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: EventBus,
    readonly address: StepAddress,
    /** Consumer group prefix. */
    private readonly group: string,
  ) {
    const { site, cell, step } = address;
    const topic = (stream: AgentStream) => topicName({ site, cell, step, stream });
    this.topics = {
      sensors: topic('sensors'),
      setpoints: topic('setpoints'),
      status: topic('status'),
      state: topic('state'),
      targets: topic('targets'),
    };
    this.deadLetter = deadLetterTopic(site, cell);
  }

  /** Makes the agent's topics, compacted where the contract's stream is a last-value one. */
  async ensureTopics(): Promise<void> {
    await this.bus.ensureTopics([
      ...AGENT_STREAMS.map((stream) => ({
        name: this.topics[stream],
        compacted: STREAMS[stream].compacted,
      })),
      { name: this.deadLetter },
    ]);
  }

  /**
   * Subscribes to the step's sensors, throughput targets, mode requests (state) and setpoint
   * commands (an operator's own write ends Automatic). One consumer group per stream: a Kafka
   * group's members share one subscription. Named by site and cell too: cells that share a
   * Kafka cluster never share a group.
   */
  async subscribe(handlers: StepAgentHandlers): Promise<void> {
    const { site, cell, step } = this.address;
    const group = (stream: AgentStream) => `${this.group}.${site}.${cell}.${step}.${stream}`;
    const deadLetterTopic = this.deadLetter;
    this.subscriptions.push(
      // Joined in parallel: each consumer group's join takes seconds on Kafka.
      ...(await subscribeAll([
        subscribeEvents(this.bus, {
          group: group('sensors'),
          topic: this.topics.sensors,
          codec: sensorReadingCodec,
          deadLetterTopic,
          handler: async (reading) => handlers.reading(reading),
        }),
        subscribeEvents(this.bus, {
          group: group('targets'),
          topic: this.topics.targets,
          codec: throughputTargetCodec,
          deadLetterTopic,
          fromBeginning: true,
          handler: async (target) => handlers.target(target),
        }),
        subscribeEvents(this.bus, {
          group: group('state'),
          topic: this.topics.state,
          codec: deviceStateCodec,
          deadLetterTopic,
          handler: async (state) => handlers.modeRequest(state),
        }),
        subscribeEvents(this.bus, {
          group: group('setpoints'),
          topic: this.topics.setpoints,
          codec: setpointCommandCodec,
          deadLetterTopic,
          handler: async (command) => handlers.setpointCommand(command),
        }),
      ])),
    );
  }

  /** Closes the subscriptions (the bus itself stays open: it is the caller's). */
  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions.length = 0;
  }

  /** A setpoint command, keyed by its target tag. */
  async publishCommand(command: SetpointCommand): Promise<void> {
    const topic = this.topics.setpoints;
    await publishEvent(this.bus, topic, setpointCommandCodec, command.targetTag, command);
  }

  /** The step's status, keyed by step. */
  async publishStatus(status: StepStatus): Promise<void> {
    await publishEvent(this.bus, this.topics.status, stepStatusCodec, this.address.step, status);
  }

  /** The step's mode feedback on its state topic, keyed by step. */
  async publishModeFeedback(feedback: DeviceState): Promise<void> {
    await publishEvent(this.bus, this.topics.state, deviceStateCodec, this.address.step, feedback);
  }
}
