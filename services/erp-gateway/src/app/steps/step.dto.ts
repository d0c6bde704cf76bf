import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Reason } from '../http/validation';
import { IsIn, IsNumber, IsOptional, IsString, Length, Matches } from 'class-validator';

export const STEP_MODES = ['offline', 'operator', 'automatic'] as const;
export type StepModeName = (typeof STEP_MODES)[number];

/** POST /steps/{step}/mode: a person's mode request (NAMUR MTP: the operator always wins). */
export class ModeRequestDto {
  @ApiProperty({ type: String, enum: STEP_MODES })
  @IsIn(STEP_MODES)
  mode!: StepModeName;

  @ApiPropertyOptional({
    type: String,
    enum: ['agent', 'fallback'],
    default: 'agent',
    description: 'Source in Automatic',
  })
  @IsOptional()
  @IsIn(['agent', 'fallback'])
  source?: 'agent' | 'fallback';

  @Reason()
  reason!: string;
}

/**
 * POST /steps/{step}/setpoints: an operator's setpoint; the step leaves Automatic. Checked
 * against the plant (a setpoint of this step, its unit, its engineering limits) before it is
 * sent; the agent's narrower range does not apply to a person.
 */
export class SetpointOverrideDto {
  @ApiProperty({
    type: String,
    description:
      "A setpoint of the step (a pump, the jacket, the back-pressure), as its tag or its target-value reading's",
    example: 'P-101.SP',
    pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$',
    maxLength: 64,
  })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, { message: 'tag must look like P-101 or P-101.SP' })
  tag!: string;

  @ApiProperty({ type: Number, description: "Within the setpoint's engineering limits" })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;

  @ApiProperty({
    type: String,
    description: 'Unit of the value, as the device reports it',
    example: 'mL/min',
  })
  @IsString()
  @Length(1, 16)
  unit!: string;

  @Reason()
  reason!: string;
}

export class CommandAccepted {
  @ApiProperty({
    type: String,
    format: 'uuid',
    description: 'The command id; its outcome lands in the audit trail',
  })
  commandId!: string;
}

/** 202 to a setpoint: where to follow it. */
export class SetpointAccepted extends CommandAccepted {
  @ApiProperty({
    type: String,
    description: "The command's outcome: GET it (pending until the device confirms or refuses it)",
    example: '/api/v1/steps/nitration/setpoints/3f0e…',
  })
  location!: string;
}

/** GET /steps/{step}/setpoints/{commandId}: an operator's setpoint and what became of it. */
export class SetpointOutcomeView {
  @ApiProperty({ type: String, format: 'uuid' }) commandId!: string;
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String, description: 'The setpoint written' }) tag!: string;
  @ApiProperty({ type: String, description: 'The device it was sent to' }) device!: string;
  @ApiProperty({ type: Number, description: 'The value asked for' }) value!: number;
  @ApiProperty({ type: String }) unit!: string;
  @ApiProperty({ type: String }) issuedBy!: string;
  @ApiProperty({ type: String }) reason!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) issuedAt!: string | null;
  @ApiProperty({ type: String, enum: ['pending', 'applied', 'refused', 'failed'] })
  state!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['applied', 'refused_limits', 'refused_expired', 'refused_mode', 'failed'],
  })
  outcome!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The value the device read back' })
  valueReadBack!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was refused or failed' })
  detail!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) confirmedAt!: string | null;
}
