import { createHash, randomUUID } from 'node:crypto';
import { QueryFailedError, type EntityManager } from 'typeorm';
import type { Actor, AuditTrail } from '../audit/audit-trail';
import type { Database } from '../database';
import { ProductionOrderEntity } from '../entities/production-order.entity';
import { PersistenceError } from '../errors';
import { decodeCursor, encodeCursor } from '../pagination';
import { ORDER_STATES, nextOrderState, type OrderCommand, type OrderState } from './order-states';
import { orderQuantityProblem } from './order-quantity';

// The quantity rule is part of the orders' public face: exported with the store.
export { ORDER_QUANTITY, ORDER_UNIT_GRAMS, orderQuantityProblem } from './order-quantity';

export interface NewOrder {
  erpReference: string;
  product: string;
  quantity: number;
  unit: string;
  /** Lower runs first. @default 0 */
  priority?: number;
  /** ISO 8601. */
  dueAt?: string;
  /** Create it Released rather than Forecast (the ERP releases at once). @default false */
  release?: boolean;
}

/** A state change, handed to listeners inside the transaction that makes it. */
export interface OrderStateChange {
  order: ProductionOrderEntity;
  from: OrderState | null;
  to: OrderState;
  command: OrderCommand | 'create';
  actor: Actor;
  reason: string;
  at: string;
}

/** Runs inside the change's transaction: what it writes commits or rolls back with it. */
export type OrderStateListener = (
  manager: EntityManager,
  change: OrderStateChange,
) => Promise<void>;

export interface OrderPage {
  items: ProductionOrderEntity[];
  /** Pass as `cursor` for the next page; absent on the last. */
  next?: string;
}

export interface OrderStoreOptions {
  cell: string;
  /** @default Date.now */
  clock?: () => number;
}

/**
 * Production orders and their ISA-95 state machine. Every state change is one transaction
 * that also appends the audit entry and runs the listeners (the webhook outbox), so a
 * change, its record and its notification are never separated.
 */
export class OrderStore {
  private readonly listeners: OrderStateListener[] = [];
  private readonly clock: () => number;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditTrail,
    private readonly options: OrderStoreOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  onStateChange(listener: OrderStateListener): void {
    this.listeners.push(listener);
  }

  /**
   * Creates an order once per client and idempotency key: a replay with the same body returns
   * the order made the first time (`created: false`); another body is refused.
   */
  async create(
    client: Actor,
    idempotencyKey: string,
    order: NewOrder,
  ): Promise<{ order: ProductionOrderEntity; created: boolean }> {
    const quantityProblem = orderQuantityProblem(order.quantity, order.unit);
    if (quantityProblem) {
      throw new PersistenceError('INVALID_ARGUMENT', quantityProblem, 'quantity');
    }
    const requestHash = createHash('sha256')
      .update(
        JSON.stringify([
          order.erpReference,
          order.product,
          order.quantity,
          order.unit,
          order.priority ?? 0,
          order.dueAt ?? null,
          order.release ?? false,
        ]),
      )
      .digest('hex');
    const replay = await this.findReplay(client.id, idempotencyKey, requestHash);
    if (replay) return { order: replay, created: false };
    try {
      return await this.db.transaction(async (manager) => {
        const at = new Date(this.clock()).toISOString();
        const state: OrderState = order.release ? 'Released' : 'Forecast';
        const entity = manager.getRepository(ProductionOrderEntity).create({
          id: randomUUID(),
          erpReference: order.erpReference,
          clientId: client.id,
          idempotencyKey,
          requestHash,
          product: order.product,
          quantity: order.quantity,
          unit: order.unit,
          state,
          priority: order.priority ?? 0,
          dueAt: order.dueAt ? new Date(order.dueAt).toISOString() : null,
          producedQuantity: 0,
          outputLotId: null,
          createdAt: at,
          updatedAt: at,
          startedAt: null,
          endedAt: null,
          version: 1,
        });
        await manager.insert(ProductionOrderEntity, entity);
        const change: OrderStateChange = {
          order: entity,
          from: null,
          to: state,
          command: 'create',
          actor: client,
          reason: `order ${order.erpReference} received`,
          at,
        };
        await this.record(manager, change);
        return { order: entity, created: true };
      });
    } catch (error) {
      // Two concurrent first calls with one key: the unique index lets one win; the other
      // answers as a replay.
      if (error instanceof QueryFailedError) {
        const winner = await this.findReplay(client.id, idempotencyKey, requestHash);
        if (winner) return { order: winner, created: false };
      }
      throw error;
    }
  }

  private async findReplay(
    clientId: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<ProductionOrderEntity | undefined> {
    const existing = await this.db.manager
      .getRepository(ProductionOrderEntity)
      .findOneBy({ clientId, idempotencyKey });
    if (!existing) return undefined;
    if (existing.requestHash !== requestHash) {
      throw new PersistenceError(
        'IDEMPOTENCY_MISMATCH',
        `idempotency key "${idempotencyKey}" was used for a different order`,
        'Idempotency-Key',
      );
    }
    return existing;
  }

  async get(id: string): Promise<ProductionOrderEntity> {
    const order = await this.db.manager.getRepository(ProductionOrderEntity).findOneBy({ id });
    if (!order) throw new PersistenceError('NOT_FOUND', `no order "${id}"`, 'id');
    return order;
  }

  /** Orders newest first, keyset-paginated (stable while orders are added). */
  async list(
    query: { states?: OrderState[]; limit?: number; cursor?: string } = {},
  ): Promise<OrderPage> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 500));
    const builder = this.db.manager
      .getRepository(ProductionOrderEntity)
      .createQueryBuilder('o')
      .orderBy('o.createdAt', 'DESC')
      .addOrderBy('o.id', 'DESC')
      .take(limit + 1);
    if (query.states?.length) {
      for (const state of query.states) {
        if (!ORDER_STATES.includes(state)) {
          throw new PersistenceError('INVALID_ARGUMENT', `unknown state "${state}"`, 'state');
        }
      }
      builder.andWhere('o.state IN (:...states)', { states: query.states });
    }
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, 2);
      builder.andWhere('(o.createdAt < :createdAt OR (o.createdAt = :createdAt AND o.id < :id))', {
        createdAt,
        id,
      });
    }
    const rows = await builder.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return rows.length > limit && last
      ? { items, next: encodeCursor(last.createdAt, last.id) }
      : { items };
  }

  /** The orders the cell should work on, first to run first. */
  async queue(): Promise<ProductionOrderEntity[]> {
    return this.db.manager
      .getRepository(ProductionOrderEntity)
      .createQueryBuilder('o')
      .where('o.state IN (:...states)', { states: ['Released', 'Ready', 'Running', 'Held'] })
      .orderBy('o.priority', 'ASC')
      .addOrderBy('o.createdAt', 'ASC')
      .getMany();
  }

  /**
   * Applies an ISA-95 command. Refused with INVALID_TRANSITION when the state does not allow
   * it, and with CONFLICT when `expectedVersion` is given and the order moved meanwhile.
   */
  async transition(
    id: string,
    command: OrderCommand,
    actor: Actor,
    reason: string,
    options: { expectedVersion?: number } = {},
  ): Promise<ProductionOrderEntity> {
    if (!reason.trim())
      throw new PersistenceError('INVALID_ARGUMENT', 'a reason is required', 'reason');
    return this.db.transaction(async (manager) => {
      const repository = manager.getRepository(ProductionOrderEntity);
      const order = await repository.findOneBy({ id });
      if (!order) throw new PersistenceError('NOT_FOUND', `no order "${id}"`, 'id');
      if (options.expectedVersion !== undefined && order.version !== options.expectedVersion) {
        throw new PersistenceError(
          'CONFLICT',
          `order "${id}" is at version ${order.version}, not ${options.expectedVersion}`,
          'version',
        );
      }
      const to = nextOrderState(order.state, command);
      if (!to) {
        throw new PersistenceError(
          'INVALID_TRANSITION',
          `cannot ${command} an order that is ${order.state}`,
          'state',
        );
      }
      const from = order.state;
      const at = new Date(this.clock()).toISOString();
      const changes: Partial<ProductionOrderEntity> = { state: to, updatedAt: at };
      if (to === 'Running' && !order.startedAt) changes.startedAt = at;
      if (to === 'Completed' || to === 'Aborted') changes.endedAt = at;
      // Optimistic lock: the row must still be at the version read above.
      const result = await repository
        .createQueryBuilder()
        .update(ProductionOrderEntity)
        .set({ ...changes, version: order.version + 1 })
        .where('id = :id AND version = :version', { id, version: order.version })
        .execute();
      if (result.affected !== 1) {
        throw new PersistenceError('CONFLICT', `order "${id}" changed meanwhile; retry`, 'version');
      }
      Object.assign(order, changes, { version: order.version + 1 });
      await this.record(manager, { order, from, to, command, actor, reason, at });
      return order;
    });
  }

  /** Books what the cell has made for the order (in spec, in the order's unit). */
  async setProgress(
    id: string,
    producedQuantity: number,
    outputLotId?: string,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    await manager.getRepository(ProductionOrderEntity).update(
      { id },
      {
        producedQuantity,
        ...(outputLotId ? { outputLotId } : {}),
        updatedAt: new Date(this.clock()).toISOString(),
      },
    );
  }

  private async record(manager: EntityManager, change: OrderStateChange): Promise<void> {
    await this.audit.append(
      {
        actor: change.actor,
        where: { cell: this.options.cell, orderId: change.order.id },
        kind: 'order.state',
        object: `order/${change.order.erpReference}`,
        oldValue: change.from,
        newValue: change.to,
        reason: change.reason,
        at: Date.parse(change.at),
      },
      manager,
    );
    for (const listener of this.listeners) await listener(manager, change);
  }
}
