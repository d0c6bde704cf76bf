import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  applyDecorators,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ORDER_STATES, type Actor, type OrderCommand, type OrderState } from '@pipac/persistence';
import type { Response } from 'express';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../http/api-problems';
import { InvalidInputException } from '../http/problem';
import { orderIdPipe, validated } from '../http/validation';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { Stores } from '../stores';
import {
  CreateOrderDto,
  ListOrdersQuery,
  OrderCommandDto,
  OrderPageView,
  OrderView,
  orderView,
} from './order.dto';

/** 1–128 printable ASCII characters (no space): the same text in the document and the check. */
const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,128}$';
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/** The order id path parameter and the answers every operation on one order may give. */
const OrderIdParam = () =>
  applyDecorators(
    ApiParam({ name: 'id', format: 'uuid' }),
    ApiProblems({ 400: 'An id that is not an order id (a UUID)', 404: 'No such order' }),
  );

/** A state change of one order: its body, its id, and the refusals it may meet. */
const OrderCommandOperation = () =>
  applyDecorators(
    OrderIdParam(),
    ApiBody({ type: OrderCommandDto }),
    ApiJsonBody('A malformed id, reason or expectedVersion'),
    ApiProblems({
      409: 'The order is not in a state that allows this, or no longer at expectedVersion',
    }),
    ApiOkResponse({ type: OrderView }),
  );
@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class OrdersController {
  constructor(
    @Inject(Stores) private readonly stores: Stores,
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
  ) {}

  @Post()
  @Roles('erp')
  @ApiOperation({
    summary: 'Create a production order',
    description:
      'Idempotent per Idempotency-Key: a replay with the same body answers 200 with the order made the first time; ' +
      'the same key with another body is refused (422).',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Unique per order request (1–128 printable ASCII characters, no spaces)',
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: IDEMPOTENCY_KEY_PATTERN },
  })
  @ApiBody({ type: CreateOrderDto })
  @ApiCreatedResponse({ type: OrderView })
  @ApiOkResponse({ type: OrderView, description: 'A replay of an earlier request' })
  @ApiJsonBody('A field at fault, or a missing or malformed Idempotency-Key')
  @ApiProblems({
    422: "Another product than the cell's, or an Idempotency-Key used before with another body",
  })
  async create(
    @Caller() caller: Actor,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body(validated(CreateOrderDto)) body: CreateOrderDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OrderView> {
    if (!idempotencyKey || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new InvalidInputException([
        { field: 'Idempotency-Key', reason: 'header required: 1–128 printable ASCII characters' },
      ]);
    }
    if (body.product !== this.options.product) {
      throw new InvalidInputException(
        [
          {
            field: 'product',
            reason: `this cell makes "${this.options.product}", not "${body.product}"`,
          },
        ],
        422,
      );
    }
    const { order, created } = await this.stores.orders.create(caller, idempotencyKey, body);
    response.status(created ? 201 : 200).location(`orders/${order.id}`);
    return orderView(order);
  }

  @Get()
  @ApiOperation({ summary: 'List orders, newest first (keyset pagination)' })
  @ApiOkResponse({ type: OrderPageView })
  @ApiProblems({ 400: 'An unknown state, a limit outside 1..500, or a malformed cursor' })
  async list(@Query(validated(ListOrdersQuery)) query: ListOrdersQuery): Promise<OrderPageView> {
    const states = query.state ? query.state.split(',').map((s) => s.trim()) : undefined;
    const unknown = states?.find((s) => !ORDER_STATES.includes(s as OrderState));
    if (unknown !== undefined) {
      throw new InvalidInputException([
        { field: 'state', reason: `"${unknown}" is not one of ${ORDER_STATES.join(', ')}` },
      ]);
    }
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    if (limit !== undefined && (limit < 1 || limit > 500)) {
      throw new InvalidInputException([{ field: 'limit', reason: 'must be 1 to 500' }]);
    }
    const page = await this.stores.orders.list({
      ...(states ? { states: states as OrderState[] } : {}),
      ...(limit ? { limit } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return { items: page.items.map(orderView), ...(page.next ? { next: page.next } : {}) };
  }

  @Get(':id')
  @ApiOperation({ summary: "An order's state and progress" })
  @OrderIdParam()
  @ApiOkResponse({ type: OrderView })
  async get(@Param('id', orderIdPipe) id: string): Promise<OrderView> {
    return orderView(await this.stores.orders.get(id));
  }

  @Post(':id/release')
  @HttpCode(200)
  @Roles('erp')
  @ApiOperation({ summary: 'Release a Forecast order to the cell' })
  @OrderCommandOperation()
  release(
    @Param('id', orderIdPipe) id: string,
    @Caller() caller: Actor,
    @Body(validated(OrderCommandDto)) body: OrderCommandDto,
  ) {
    return this.command(id, 'release', caller, body);
  }

  @Post(':id/hold')
  @HttpCode(200)
  @Roles('erp', 'operator')
  @ApiOperation({
    summary:
      'Hold an order (Released, Ready or Running → Held): the cell books nothing more to it until it is resumed',
  })
  @OrderCommandOperation()
  hold(
    @Param('id', orderIdPipe) id: string,
    @Caller() caller: Actor,
    @Body(validated(OrderCommandDto)) body: OrderCommandDto,
  ) {
    return this.command(id, 'hold', caller, body);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Roles('erp', 'operator')
  @ApiOperation({ summary: 'Resume a held order (Held → Ready)' })
  @OrderCommandOperation()
  resume(
    @Param('id', orderIdPipe) id: string,
    @Caller() caller: Actor,
    @Body(validated(OrderCommandDto)) body: OrderCommandDto,
  ) {
    return this.command(id, 'resume', caller, body);
  }

  @Post(':id/abort')
  @HttpCode(200)
  @Roles('erp', 'operator')
  @ApiOperation({ summary: 'Abort an order that has not ended' })
  @OrderCommandOperation()
  abort(
    @Param('id', orderIdPipe) id: string,
    @Caller() caller: Actor,
    @Body(validated(OrderCommandDto)) body: OrderCommandDto,
  ) {
    return this.command(id, 'abort', caller, body);
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('erp')
  @ApiOperation({ summary: 'Close a Completed or Aborted order (the ERP has booked it)' })
  @OrderCommandOperation()
  close(
    @Param('id', orderIdPipe) id: string,
    @Caller() caller: Actor,
    @Body(validated(OrderCommandDto)) body: OrderCommandDto,
  ) {
    return this.command(id, 'close', caller, body);
  }

  private async command(
    id: string,
    command: OrderCommand,
    caller: Actor,
    body: OrderCommandDto,
  ): Promise<OrderView> {
    const order = await this.stores.orders.transition(id, command, caller, body.reason, {
      ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
    });
    return orderView(order);
  }
}
