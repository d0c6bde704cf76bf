import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { subscribeAll, subscribeEvents, type Subscription } from '@pipac/bus';
import {
  AutomaticSource,
  Mode,
  deadLetterTopic,
  setpointCommandCodec,
  stepStatusCodec,
  stepTopics,
  timestampMs,
  topicName,
  writeConfirmationCodec,
  type StepStatus,
} from '@pipac/contracts';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { SetpointOutcomes } from './setpoint-outcomes';

export class StepView {
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String, enum: ['unknown', 'offline', 'operator', 'automatic'] })
  mode!: string;
  @ApiProperty({ type: String, enum: ['agent', 'fallback', ''] }) source!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Measured conversion, 0..1' })
  conversion!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Outlet liquid flow, mL/min' })
  outletFlow!: number | null;
  @ApiProperty({ type: Boolean, nullable: true }) inSpec!: boolean | null;
  @ApiProperty({ type: String, nullable: true }) modelVersion!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) at!: string | null;
}

const MODES: Record<number, string> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/**
 * The latest StepStatus of each step, for GET /steps, and what became of the operators' recent
 * setpoint commands (their confirmations), for GET /steps/{step}/setpoints/{id}. Every gateway
 * replica reads them all.
 */
@Injectable()
export class StepStatusCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly latest = new Map<string, StepStatus>();
  readonly outcomes = new SetpointOutcomes();
  private subscriptions: Subscription[] = [];

  constructor(@Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions) {}

  async onApplicationBootstrap(): Promise<void> {
    const { site, cell, bus } = this.options;
    await bus.ensureTopics([
      ...this.options.steps.flatMap((step) => stepTopics(site, cell, step)),
      { name: deadLetterTopic(site, cell) },
    ]);
    // Every replica reads every status (its own groups), one group per step: a Kafka group's
    // members share one subscription.
    const group = (step: string, stream: string) =>
      `erp-gateway.${site}.${cell}.${step}.${stream}.${hostname()}.${process.pid}`;
    const deadLetter = deadLetterTopic(site, cell);
    this.subscriptions = await subscribeAll(
      this.options.steps.flatMap((step) => [
        subscribeEvents(bus, {
          group: group(step, 'status'),
          topic: topicName({ site, cell, step, stream: 'status' }),
          codec: stepStatusCodec,
          deadLetterTopic: deadLetter,
          handler: async (status) => {
            this.latest.set(step, status);
          },
        }),
        subscribeEvents(bus, {
          group: group(step, 'setpoints'),
          topic: topicName({ site, cell, step, stream: 'setpoints' }),
          codec: setpointCommandCodec,
          deadLetterTopic: deadLetter,
          handler: async (command) => this.outcomes.issued(step, command),
        }),
        subscribeEvents(bus, {
          group: group(step, 'confirmations'),
          topic: topicName({ site, cell, step, stream: 'confirmations' }),
          codec: writeConfirmationCodec,
          deadLetterTopic: deadLetter,
          handler: async (confirmation) => this.outcomes.confirmed(confirmation),
        }),
      ]),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions = [];
  }

  all(): StepView[] {
    return this.options.steps.map((step) => {
      const s = this.latest.get(step);
      if (!s) {
        return {
          step,
          mode: 'unknown',
          source: '',
          conversion: null,
          outletFlow: null,
          inSpec: null,
          modelVersion: null,
          at: null,
        };
      }
      return {
        step,
        mode: MODES[s.mode] ?? 'unknown',
        source:
          s.mode === Mode.AUTOMATIC
            ? s.source === AutomaticSource.FALLBACK
              ? 'fallback'
              : 'agent'
            : '',
        conversion: s.conversion,
        outletFlow: s.outletFlow,
        inSpec: s.inSpec,
        modelVersion: s.modelVersion || null,
        at: s.at ? new Date(timestampMs(s.at)).toISOString() : null,
      };
    });
  }
}
