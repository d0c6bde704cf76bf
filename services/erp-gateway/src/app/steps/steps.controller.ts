import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { publishEvent } from '@pipac/bus';
import { OperatorSetpointError, OperatorSetpoints } from '@pipac/control';
import {
  AutomaticSource,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  SetpointCommandSchema,
  deviceStateCodec,
  create,
  moduleDeviceId,
  setpointCommandCodec,
  timestampFromMs,
  topicName,
} from '@pipac/contracts';
import type { Actor } from '@pipac/persistence';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../http/api-problems';
import { InvalidInputException } from '../http/problem';
import { validated } from '../http/validation';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { Stores } from '../stores';
import { StepStatusCache, StepView } from './step-status.cache';
import {
  CommandAccepted,
  ModeRequestDto,
  SetpointAccepted,
  SetpointOutcomeView,
  SetpointOverrideDto,
  type StepModeName,
} from './step.dto';

const MODE_WIRE: Record<StepModeName, Mode> = {
  offline: Mode.OFFLINE,
  operator: Mode.OPERATOR,
  automatic: Mode.AUTOMATIC,
};

/** How long an operator's setpoint stays valid on its way to the device, by default. */
const SETPOINT_DEADLINE_MS = 30_000;

/** A command id in a path: a UUID, or a 400 that names `commandId`. */
const commandIdPipe = new ParseUUIDPipe({
  exceptionFactory: () =>
    new InvalidInputException([{ field: 'commandId', reason: 'must be a command id (a UUID)' }]),
});

/**
 * The operator's hand on the cell: mode requests and setpoint overrides go onto the step's
 * topics as a person's commands (the agent yields at once; the adapter writes and confirms).
 * A setpoint the plant refuses for what it is (a tag not of the step, a wrong unit, a value
 * outside the engineering limits) is refused here, with the reason, and audited; one the
 * device refuses is audited when its confirmation comes, and either outcome can be followed
 * under the command id.
 */
@ApiTags('steps')
@ApiAuthenticated()
@Controller('steps')
export class StepsController {
  /** The plant's setpoints per step, when the gateway was given the plant. */
  private readonly setpoints: OperatorSetpoints | undefined;

  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
    @Inject(StepStatusCache) private readonly status: StepStatusCache,
    @Inject(Stores) private readonly stores: Stores,
  ) {
    this.setpoints = options.plant ? new OperatorSetpoints(options.plant) : undefined;
  }

  @Get()
  @ApiOperation({
    summary: "Each step's latest status: mode, source, conversion, flow, model version",
  })
  @ApiOkResponse({
    type: StepView,
    isArray: true,
    description: 'One entry per step, in process order',
  })
  list(): StepView[] {
    return this.status.all();
  }

  @Post(':step/mode')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: "Request a step's mode (Offline, Operator, Automatic)" })
  @ApiParam({ name: 'step', description: 'A step of the cell' })
  @ApiBody({ type: ModeRequestDto })
  @ApiAcceptedResponse({ type: CommandAccepted })
  @ApiJsonBody('A mode, source or reason at fault')
  @ApiProblems({ 404: 'No such step' })
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
      "Override a setpoint: the step leaves Automatic, the device writes and reads it back; follow the outcome at the answer's location",
  })
  @ApiParam({ name: 'step', description: 'A step of the cell' })
  @ApiBody({ type: SetpointOverrideDto })
  @ApiAcceptedResponse({ type: SetpointAccepted })
  @ApiJsonBody('A tag, value, unit or reason at fault')
  @ApiProblems({
    404: 'No such step',
    422: 'Refused by the plant and audited: not a setpoint of this step, a wrong unit, or outside its engineering limits',
  })
  async setpoint(
    @Param('step') step: string,
    @Caller() caller: Actor,
    @Body(validated(SetpointOverrideDto)) body: SetpointOverrideDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<SetpointAccepted> {
    if (!this.options.steps.includes(step)) {
      await this.auditRefusal(undefined, caller, body, this.unknownStep(step));
      this.checkStep(step);
    }
    const target = await this.target(step, caller, body);
    const commandId = randomUUID();
    const now = (this.options.clock ?? Date.now)();
    const command = create(SetpointCommandSchema, {
      commandId,
      location: { site: this.options.site, cell: this.options.cell, step, device: target.device },
      targetTag: target.tag,
      value: target.value,
      unit: body.unit,
      issuer: { kind: Issuer_Kind.USER, id: caller.id, modelVersion: '' },
      reason: body.reason,
      issuedAt: timestampFromMs(now),
      deadline: timestampFromMs(now + (this.options.setpointDeadlineMs ?? SETPOINT_DEADLINE_MS)),
      traceId: '',
    });
    // Known before it is sent: a GET right after the 202 finds it pending.
    this.status.outcomes.issued(step, command);
    await publishEvent(
      this.options.bus,
      topicName({ site: this.options.site, cell: this.options.cell, step, stream: 'setpoints' }),
      setpointCommandCodec,
      target.tag,
      command,
    );
    const location = `/api/v1/steps/${encodeURIComponent(step)}/setpoints/${commandId}`;
    response.setHeader('Location', location);
    return { commandId, location };
  }

  @Get(':step/setpoints/:commandId')
  @ApiOperation({
    summary:
      "An operator's setpoint command and what became of it: pending, applied (with the device's read-back), refused or failed (with the reason)",
  })
  @ApiParam({ name: 'step', description: 'A step of the cell' })
  @ApiParam({ name: 'commandId', format: 'uuid' })
  @ApiOkResponse({ type: SetpointOutcomeView })
  @ApiProblems({
    400: 'A command id that is not a UUID',
    404: 'No such step, or a command this gateway has not seen (the audit trail keeps every outcome)',
  })
  outcome(
    @Param('step') step: string,
    @Param('commandId', commandIdPipe) commandId: string,
  ): SetpointOutcomeView {
    this.checkStep(step);
    const known = this.status.outcomes.get(step, commandId);
    if (!known) {
      throw new InvalidInputException(
        [{ field: 'commandId', reason: `no recent setpoint command ${commandId} on step ${step}` }],
        404,
      );
    }
    return known;
  }

  /**
   * Where an operator's setpoint goes: the step's module and the setpoint's tag, once the plant
   * accepts it (a refusal is audited and answered with a 422 naming the field). Without the
   * plant the command goes out as given, addressed by tag as the agents' are, for the adapter
   * to check.
   */
  private async target(
    step: string,
    caller: Actor,
    body: SetpointOverrideDto,
  ): Promise<{ tag: string; device: string; value: number }> {
    if (!this.setpoints) return { tag: body.tag, device: '', value: body.value };
    try {
      const { setpoint, value } = this.setpoints.check({
        step,
        tag: body.tag,
        value: body.value,
        unit: body.unit,
      });
      return { tag: setpoint.tag, device: moduleDeviceId(step), value };
    } catch (error) {
      if (!(error instanceof OperatorSetpointError)) throw error;
      await this.auditRefusal(step, caller, body, error.message);
      throw new InvalidInputException(
        [{ field: error.field, reason: error.message }],
        error.code === 'UNKNOWN_STEP' ? 404 : 422,
      );
    }
  }

  /**
   * A setpoint refused before it was sent, in the audit trail: who asked, for what, why they
   * asked and why it was refused (21 CFR Part 11: attempts count, not only changes).
   */
  private async auditRefusal(
    step: string | undefined,
    caller: Actor,
    body: SetpointOverrideDto,
    why: string,
  ): Promise<void> {
    const known = this.setpoints?.find(body.tag);
    await this.stores.audit.append({
      actor: { kind: 'user', id: caller.id },
      where: {
        cell: this.options.cell,
        step,
        device: step !== undefined && known?.step === step ? moduleDeviceId(step) : undefined,
      },
      kind: 'setpoint.refused',
      object: known?.tag ?? body.tag,
      oldValue: null,
      newValue: body.value,
      unit: body.unit,
      reason: `refused by the gateway: ${why}; reason given: ${body.reason}`,
    });
  }

  private unknownStep(step: string): string {
    return `"${step}" is not a step of this cell (${this.options.steps.join(', ')})`;
  }

  private checkStep(step: string): void {
    if (!this.options.steps.includes(step)) {
      throw new InvalidInputException([{ field: 'step', reason: this.unknownStep(step) }], 404);
    }
  }
}
