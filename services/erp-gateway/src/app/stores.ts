import { Inject, Injectable } from '@nestjs/common';
import {
  ApiClientStore,
  AuditTrail,
  LotStore,
  ModelRegistry,
  OrderStore,
  WebhookStore,
  notifyOrderStateChanges,
} from '@pipac/persistence';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from './gateway-options';

/** The persistence stores the controllers share, on the gateway's database and clock. */
@Injectable()
export class Stores {
  readonly clock: () => number;
  readonly audit: AuditTrail;
  readonly orders: OrderStore;
  readonly lots: LotStore;
  readonly clients: ApiClientStore;
  readonly models: ModelRegistry;
  readonly webhooks: WebhookStore;

  constructor(@Inject(GATEWAY_OPTIONS) readonly options: ErpGatewayOptions) {
    const { db, cell } = options;
    this.clock = options.clock ?? Date.now;
    this.audit = new AuditTrail(db, this.clock);
    this.orders = new OrderStore(db, this.audit, { cell, clock: this.clock });
    this.lots = new LotStore(db);
    this.clients = new ApiClientStore(db, this.clock);
    this.models = new ModelRegistry(db, this.audit, cell, this.clock);
    // Deliveries run on the wall clock, whatever the plant's clock: the ERP and its network
    // live in real time (retry delays, the signature's freshness window).
    this.webhooks = new WebhookStore(db);
    notifyOrderStateChanges(this.orders, this.webhooks);
  }
}
