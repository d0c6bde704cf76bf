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

/** POST /steps/{step}/setpoints: an operator's setpoint; the step leaves Automatic. */
export class SetpointOverrideDto {
  @ApiProperty({ type: String, description: 'Target tag, e.g. P-101.SP', example: 'P-101.SP' })
  @IsString()
  @Matches(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, { message: 'tag must look like P-101.SP' })
  tag!: string;

  @ApiProperty({ type: Number })
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
