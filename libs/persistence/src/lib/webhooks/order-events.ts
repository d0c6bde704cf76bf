import type { ProductionOrderEntity } from '../entities/production-order.entity';
import type { OrderStateChange, OrderStore } from '../orders/order-store';
import type { WebhookEvent, WebhookStore } from './webhook-store';

export const ORDER_STATE_CHANGED = 'order.state-changed';

/** An order as the ERP sees it, in events and in REST answers. */
export function orderSnapshot(order: ProductionOrderEntity) {
  return {
    id: order.id,
    erpReference: order.erpReference,
    product: order.product,
    quantity: order.quantity,
    unit: order.unit,
    state: order.state,
    priority: order.priority,
    dueAt: order.dueAt,
    producedQuantity: order.producedQuantity,
    progress: Math.min(1, order.producedQuantity / order.quantity),
    outputLotId: order.outputLotId,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    startedAt: order.startedAt,
    endedAt: order.endedAt,
    version: order.version,
  };
}

/** The `order.state-changed` event of a change; its id (order id and version) is unique. */
export function orderStateChangedEvent(change: OrderStateChange): WebhookEvent {
  const id = `${change.order.id}.${change.order.version}`;
  return {
    id,
    type: ORDER_STATE_CHANGED,
    payload: JSON.stringify({
      id,
      type: ORDER_STATE_CHANGED,
      occurredAt: change.at,
      data: {
        order: orderSnapshot(change.order),
        previousState: change.from,
        state: change.to,
        changedBy: change.actor.id,
        reason: change.reason,
      },
    }),
  };
}

/**
 * Owes every state change of `orders` to the webhook subscribers, in the change's own
 * transaction (a transactional outbox). Every process that changes orders (the gateway, the
 * coordinator) registers it; the gateway delivers.
 */
export function notifyOrderStateChanges(orders: OrderStore, webhooks: WebhookStore): void {
  orders.onStateChange(async (manager, change) => {
    await webhooks.enqueue(manager, orderStateChangedEvent(change));
  });
}
