import { Controller, Get, Inject, Param, applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Genealogy, MaterialLotEntity, PerformanceTotal } from '@pipac/persistence';
import { ApiAuthenticated, ApiProblems } from '../http/api-problems';
import { orderIdPipe, textParam } from '../http/validation';
import { Stores } from '../stores';
import { batchRecord, type BatchRecord } from './batch-record';
import { BatchRecordView, GenealogyView, MaterialLotView, PerformanceTotalView } from './lot.dto';

/** Lot ids are at most 64 characters (the column's width). */
const lotIdPipe = textParam('lotId', 64);

/** The lot id path parameter and the answers it brings. */
const LotIdParam = () =>
  applyDecorators(
    ApiParam({
      name: 'lotId',
      description: 'The lot number; URL-encode its slashes (PO-1234%2Facetylation%2F1)',
      schema: { type: 'string', minLength: 1, maxLength: 64 },
    }),
    ApiProblems({
      400: 'A lot id that is too long or not one line of text',
      404: 'No such lot',
    }),
  );

/** The order id path parameter and the answers it brings. */
const OrderIdParam = () =>
  applyDecorators(
    ApiParam({ name: 'id', format: 'uuid' }),
    ApiProblems({ 400: 'An id that is not an order id (a UUID)', 404: 'No such order' }),
  );

@ApiTags('lots')
@ApiAuthenticated()
@Controller()
export class LotsController {
  constructor(@Inject(Stores) private readonly stores: Stores) {}

  @Get('orders/:id/lots')
  @ApiOperation({
    summary: "The lots made for an order, one per step (the last one is the order's product)",
  })
  @OrderIdParam()
  @ApiOkResponse({ type: MaterialLotView, isArray: true, description: 'Material lots' })
  async lotsOfOrder(@Param('id', orderIdPipe) id: string): Promise<MaterialLotEntity[]> {
    await this.stores.orders.get(id);
    return this.stores.lots.lotsOfOrder(id);
  }

  @Get('orders/:id/performance')
  @ApiOperation({
    summary: 'Production performance: what each step produced (in spec) and consumed for the order',
  })
  @OrderIdParam()
  @ApiOkResponse({
    type: PerformanceTotalView,
    isArray: true,
    description: 'Totals per step, material and kind',
  })
  async performance(@Param('id', orderIdPipe) id: string): Promise<PerformanceTotal[]> {
    await this.stores.orders.get(id);
    return this.stores.lots.performance(id);
  }

  @Get('lots/:lotId')
  @ApiOperation({ summary: 'A material lot' })
  @LotIdParam()
  @ApiOkResponse({ type: MaterialLotView, description: 'The lot' })
  lot(@Param('lotId', lotIdPipe) lotId: string): Promise<MaterialLotEntity> {
    return this.stores.lots.getLot(lotId);
  }

  @Get('lots/:lotId/genealogy')
  @ApiOperation({ summary: 'Every lot that went into this one, and every lot it went into' })
  @LotIdParam()
  @ApiOkResponse({
    type: GenealogyView,
    description: 'Ancestors and descendants with the quantities that passed',
  })
  genealogy(@Param('lotId', lotIdPipe) lotId: string): Promise<Genealogy> {
    return this.stores.lots.genealogy(lotId);
  }

  @Get('lots/:lotId/batch-record')
  @ApiOperation({
    summary: "The lot's electronic batch record",
    description:
      'Genealogy, production performance, setpoint and mode changes, alarms, model versions and quality results ' +
      'while it was made, and the audit-trail verification behind them.',
  })
  @LotIdParam()
  @ApiOkResponse({ type: BatchRecordView, description: 'The batch record' })
  batchRecord(@Param('lotId', lotIdPipe) lotId: string): Promise<BatchRecord> {
    return batchRecord(this.stores, lotId);
  }
}
