import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsFreeText, Reason } from '../http/validation';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import {
  ORDER_QUANTITY,
  ORDER_STATES,
  orderQuantityProblem,
  orderSnapshot,
  type OrderState,
  type ProductionOrderEntity,
} from '@pipac/persistence';

export const ORDER_UNITS = ['g', 'kg'] as const;

/** An ERP order number: ASCII letters, digits and . / : _ - (the same text in the document). */
const ERP_REFERENCE = /^[A-Za-z0-9_./:-]+$/;

/** The largest integer PostgreSQL's `integer` holds: versions are counted in one. */
const MAX_VERSION = 2_147_483_647;

/**
 * The order's quantity, bounded as a mass in its unit (the rule is the order store's: 1 mg to
 * 1 t, whole milligrams), so the ERP learns of it with the other fields at fault.
 */
function IsOrderQuantity(): PropertyDecorator {
  return ValidateBy({
    name: 'isOrderQuantity',
    validator: {
      validate: (value: unknown, args) => {
        const unit = (args?.object as { unit?: unknown } | undefined)?.unit;
        // One reason per fault: a bad unit is reported on `unit`, a number that is not
        // positive by IsPositive; the mass is judged only for a positive number in a known unit.
        if (typeof value !== 'number' || !(value > 0) || !ORDER_UNITS.includes(unit as 'g')) {
          return true;
        }
        return orderQuantityProblem(value, unit as string) === undefined;
      },
      defaultMessage: (args) =>
        orderQuantityProblem(args?.value as number, (args?.object as { unit: string }).unit) ??
        'quantity is out of range',
    },
  });
}

/** POST /orders: a production request (ISA-95 ProductionRequest, B2MML in spirit). */
export class CreateOrderDto {
  @ApiProperty({
    type: String,
    description: "The ERP's order number",
    example: 'SAP-4711',
    minLength: 1,
    maxLength: 64,
    pattern: ERP_REFERENCE.source,
  })
  @IsString()
  @Length(1, 64)
  @Matches(ERP_REFERENCE, { message: 'erpReference may hold letters, digits and . / : _ -' })
  erpReference!: string;

  @ApiProperty({
    type: String,
    description: "The product: the cell's recipe product",
    example: 'paracetamol',
    minLength: 1,
    maxLength: 64,
  })
  @IsString()
  @Length(1, 64)
  @IsFreeText()
  product!: string;

  @ApiProperty({
    type: Number,
    description:
      `Quantity of product to make, in \`unit\`: ${ORDER_QUANTITY.minGrams * 1000} mg to ` +
      `${ORDER_QUANTITY.maxGrams / 1e6} t after conversion (0.001 to 1,000,000 g, 0.000001 to 1,000 kg), ` +
      'in whole milligrams',
    example: 50,
    // The widest range over the units: the least in kg, the most in g.
    minimum: ORDER_QUANTITY.minGrams / 1000,
    maximum: ORDER_QUANTITY.maxGrams,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @IsOrderQuantity()
  quantity!: number;

  @ApiProperty({ type: String, enum: ORDER_UNITS, example: 'g' })
  @IsIn(ORDER_UNITS)
  unit!: (typeof ORDER_UNITS)[number];

  @ApiPropertyOptional({
    type: Number,
    description: 'Lower runs first',
    default: 0,
    minimum: 0,
    maximum: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  priority?: number;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'When the ERP needs it' })
  @IsOptional()
  @IsISO8601({ strict: true })
  dueAt?: string;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Release at once (else the order waits in Forecast)',
  })
  @IsOptional()
  @IsBoolean()
  release?: boolean;
}

/** POST /orders/{id}/release|hold|resume|abort|close */
export class OrderCommandDto {
  @Reason('customer request')
  reason!: string;

  @ApiPropertyOptional({
    type: Number,
    description: 'Refuse (409) unless the order is still at this version',
    minimum: 1,
    maximum: MAX_VERSION,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION)
  expectedVersion?: number;
}

export class ListOrdersQuery {
  @ApiPropertyOptional({
    type: String,
    enum: ORDER_STATES,
    isArray: true,
    description: 'Comma-separated states',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  state?: string;

  @ApiPropertyOptional({ type: Number, default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Matches(/^\d+$/, { message: 'limit must be a whole number' })
  limit?: string;

  @ApiPropertyOptional({ type: String, description: 'The `next` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @IsFreeText()
  cursor?: string;
}

export class OrderView {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;
  @ApiProperty({ type: String }) erpReference!: string;
  @ApiProperty({ type: String }) product!: string;
  @ApiProperty({ type: Number }) quantity!: number;
  @ApiProperty({ type: String, enum: ORDER_UNITS }) unit!: string;
  @ApiProperty({ type: String, enum: ORDER_STATES }) state!: OrderState;
  @ApiProperty({ type: Number }) priority!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) dueAt!: string | null;
  @ApiProperty({ type: Number, description: 'Made so far, in spec, in `unit`' })
  producedQuantity!: number;
  @ApiProperty({ type: Number, description: 'producedQuantity / quantity, 0..1' })
  progress!: number;
  @ApiProperty({ type: String, nullable: true, description: "The order's product lot" })
  outputLotId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt!: string | null;
  @ApiProperty({ type: Number, description: 'Optimistic-lock version; pass as expectedVersion' })
  version!: number;
}

export class OrderPageView {
  @ApiProperty({ type: OrderView, isArray: true }) items!: OrderView[];
  @ApiPropertyOptional({ type: String, description: 'Cursor of the next page; absent on the last' })
  next?: string;
}

/** The REST view of an order: the same shape as in the ERP's webhook events. */
export function orderView(order: ProductionOrderEntity): OrderView {
  return orderSnapshot(order);
}
