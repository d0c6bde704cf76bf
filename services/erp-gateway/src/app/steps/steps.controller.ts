import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { publishEvent } from '@pipac/bus';
import {
  AutomaticSource,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  SetpointCommandSchema,
  deviceStateCodec,
  create,
  setpointCommandCodec,
  timestampFromMs,
  topicName,
} from '@pipac/contracts';
import type { Actor } from '@pipac/persistence';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { InvalidInputException } from '../http/problem';
import { validated } from '../http/validation';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { StepStatusCache, type StepView } from './step-status.cache';
import {
  CommandAccepted,
  ModeRequestDto,
  SetpointOverrideDto,
  type StepModeName,
} from './step.dto';

const MODE_WIRE: Record<StepModeName, Mode> = {
  offline: Mode.OFFLINE,
  operator: Mode.OPERATOR,
  automatic: Mode.AUTOMATIC,
};

/** How long an operator's setpoint stays valid on its way to the device. */
const SETPOINT_DEADLINE_MS = 30_000;

/**
 * The operator's hand on the cell: mode requests and setpoint overrides go onto the step's
 * topics as a person's commands (the agent yields at once; the adapter writes and confirms).
 * The outcome is recorded in the audit trail when the device confirms.
 */
@ApiTags('steps')
@ApiSecurity('apiKey')
@Controller('steps')
export class StepsController {
  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
    @Inject(StepStatusCache) private readonly status: StepStatusCache,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Each step's latest status: mode, source, conversion, flow, model version",
  })
  @ApiOkResponse({ description: 'One entry per step, in process order' })
  list(): StepView[] {
    return this.status.all();
  }

  @Post(':step/mode')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: "Request a step's mode (Offline, Operator, Automatic)" })
  @ApiParam({ name: 'step' })
  @ApiBody({ type: ModeRequestDto })
  @ApiAcceptedResponse({ type: CommandAccepted })
  async mode(
    @Param('step') step: string,
    @Caller() caller: Actor,
    @Body(validated(ModeRequestDto)) body: ModeRequestDto,
  ): Promise<CommandAccepted> {
    this.checkStep(step);
    const location = { site: this.options.site, cell: this.options.cell, step, device: '' };
    const now = (this.options.clock ?? Date.now)();
    await publishEvent(
      this.options.bus,
      topicName({ site: this.options.site, cell: this.options.cell, step, stream: 'state' }),
      deviceStateCodec,
      step,
      create(DeviceStateSchema, {
        location,
        mode: MODE_WIRE[body.mode],
        source: body.source === 'fallback' ? AutomaticSource.FALLBACK : AutomaticSource.AGENT,
        state: '',
        connected: true,
        changedBy: { kind: Issuer_Kind.USER, id: caller.id, modelVersion: '' },
        reason: body.reason,
        changedAt: timestampFromMs(now),
      }),
    );
    return { commandId: randomUUID() };
  }

  @Post(':step/setpoints')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({
    summary:
      'Override a setpoint (the step leaves Automatic; the safety limits still apply at the device)',
  })
  @ApiParam({ name: 'step' })
  @ApiBody({ type: SetpointOverrideDto })
  @ApiAcceptedResponse({ type: CommandAccepted })
  async setpoint(
    @Param('step') step: string,
    @Caller() caller: Actor,
    @Body(validated(SetpointOverrideDto)) body: SetpointOverrideDto,
  ): Promise<CommandAccepted> {
    this.checkStep(step);
    const commandId = randomUUID();
    const now = (this.options.clock ?? Date.now)();
    await publishEvent(
      this.options.bus,
      topicName({ site: this.options.site, cell: this.options.cell, step, stream: 'setpoints' }),
      setpointCommandCodec,
      body.tag,
      create(SetpointCommandSchema, {
        commandId,
        location: {
          site: this.options.site,
          cell: this.options.cell,
          step,
          device: body.tag.split('.')[0]!,
        },
        targetTag: body.tag,
        value: body.value,
        unit: body.unit,
        issuer: { kind: Issuer_Kind.USER, id: caller.id, modelVersion: '' },
        reason: body.reason,
        issuedAt: timestampFromMs(now),
        deadline: timestampFromMs(now + SETPOINT_DEADLINE_MS),
        traceId: '',
      }),
    );
    return { commandId };
  }

  private checkStep(step: string): void {
    if (!this.options.steps.includes(step)) {
      throw new InvalidInputException(
        [
          {
            field: 'step',
            reason: `"${step}" is not a step of this cell (${this.options.steps.join(', ')})`,
          },
        ],
        404,
      );
    }
  }
}
