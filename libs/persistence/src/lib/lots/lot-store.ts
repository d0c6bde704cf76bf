import { In, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { LotLinkEntity } from '../entities/lot-link.entity';
import { MaterialLotEntity, type LotStatus } from '../entities/material-lot.entity';
import {
  PerformanceRecordEntity,
  type PerformanceBasis,
} from '../entities/performance-record.entity';
import { QualityResultEntity } from '../entities/quality-result.entity';
import { PersistenceError } from '../errors';

export interface NewLot {
  id: string;
  material: string;
  step?: string | null;
  orderId?: string | null;
  unit: string;
  /** @default 'in-process' */
  status?: LotStatus;
  /** What the lot holds when it is created (a tank's opening inventory). @default 0 */
  quantity?: number;
}

/** How a booked quantity was found (the performance record's basis, estimate and note). */
export interface QuantityBasis {
  /** @default 'measured' */
  basis?: PerformanceBasis;
  /** Of the quantity, what was estimated. @default 0 */
  estimated?: number;
  /** Why it is estimated or unmeasured, or where it came from. */
  note?: string;
  /** mol of the step's key reactant it carries (consumed) or needs (produced). */
  keyMoles?: number;
}

/** One step's material actuals over one interval, booked together. */
export interface StepInterval {
  orderId: string;
  step: string;
  /** ISO 8601 instants. */
  from: string;
  to: string;
  produced: {
    lotId: string;
    material: string;
    quantity: number;
    inSpec: number;
    unit: string;
  } & QuantityBasis;
  consumed: ({ lotId: string; material: string; quantity: number; unit: string } & QuantityBasis)[];
}

export interface Genealogy {
  lot: MaterialLotEntity;
  /** Every lot that went into this one, directly or through intermediates. */
  ancestors: (LotLinkEntity & { lot: MaterialLotEntity | undefined })[];
  /** Every lot this one went into. */
  descendants: (LotLinkEntity & { lot: MaterialLotEntity | undefined })[];
}

export interface PerformanceTotal {
  step: string;
  material: string;
  kind: 'produced' | 'consumed';
  quantity: number;
  inSpecQuantity: number;
  unit: string;
  /** Of `quantity`, what was estimated. */
  estimatedQuantity: number;
  /** Intervals whose quantity could not be found at all (booked as 0, with a note). */
  unmeasuredIntervals: number;
  /** Sum of the records' key-reactant moles (null when none carried one). */
  keyMoles: number | null;
}

/** Why some of a step's figures are estimated or unmeasured: one row per distinct note. */
export interface PerformanceNote {
  step: string;
  material: string;
  kind: 'produced' | 'consumed';
  basis: PerformanceBasis;
  note: string;
  intervals: number;
  quantity: number;
  estimatedQuantity: number;
  unit: string;
}

/** Material lots, their genealogy, production performance and quality results. */
export class LotStore {
  constructor(private readonly db: Database) {}

  async createLot(lot: NewLot, at: string, manager?: EntityManager): Promise<MaterialLotEntity> {
    const entity = (manager ?? this.db.manager).getRepository(MaterialLotEntity).create({
      id: lot.id,
      material: lot.material,
      step: lot.step ?? null,
      orderId: lot.orderId ?? null,
      quantity: lot.quantity ?? 0,
      unit: lot.unit,
      status: lot.status ?? 'in-process',
      createdAt: at,
      closedAt: null,
    });
    if (manager) await manager.insert(MaterialLotEntity, entity);
    else await this.db.transaction((m) => m.insert(MaterialLotEntity, entity));
    return entity;
  }

  async getLot(id: string): Promise<MaterialLotEntity> {
    const lot = await this.db.manager.getRepository(MaterialLotEntity).findOneBy({ id });
    if (!lot) throw new PersistenceError('NOT_FOUND', `no lot "${id}"`, 'lotId');
    return lot;
  }

  async lotsOfOrder(orderId: string): Promise<MaterialLotEntity[]> {
    return this.db.manager
      .getRepository(MaterialLotEntity)
      .find({ where: { orderId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async setLotStatus(id: string, status: LotStatus, at: string): Promise<void> {
    await this.db.transaction((m) =>
      m
        .getRepository(MaterialLotEntity)
        .update({ id }, { status, closedAt: status === 'in-process' ? null : at }),
    );
  }

  /**
   * Books one interval of a step: the performance records, the produced lot's quantity and
   * the genealogy links from each consumed lot (quantities add up across intervals).
   */
  async recordInterval(interval: StepInterval): Promise<void> {
    await this.db.transaction(async (manager) => {
      const { produced } = interval;
      const basis = (q: QuantityBasis) => ({
        estimatedQuantity: q.estimated ?? 0,
        basis: q.basis ?? (q.estimated ? 'estimated' : 'measured'),
        note: q.note?.slice(0, 500) ?? null,
        keyMoles: q.keyMoles ?? null,
      });
      const records = [
        {
          lotId: produced.lotId,
          material: produced.material,
          kind: 'produced' as const,
          quantity: produced.quantity,
          inSpecQuantity: produced.inSpec,
          unit: produced.unit,
          ...basis(produced),
        },
        ...interval.consumed.map((c) => ({
          lotId: c.lotId,
          material: c.material,
          kind: 'consumed' as const,
          quantity: c.quantity,
          inSpecQuantity: 0,
          unit: c.unit,
          ...basis(c),
        })),
      ];
      await manager.insert(
        PerformanceRecordEntity,
        records.map((r) => ({
          ...r,
          orderId: interval.orderId,
          step: interval.step,
          from: interval.from,
          to: interval.to,
        })),
      );
      await manager
        .getRepository(MaterialLotEntity)
        .increment({ id: produced.lotId }, 'quantity', produced.inSpec);
      const links = manager.getRepository(LotLinkEntity);
      for (const consumed of interval.consumed) {
        if (consumed.basis === 'unmeasured' && consumed.quantity === 0) continue; // no amount to link
        const key = { fromLotId: consumed.lotId, toLotId: produced.lotId, step: interval.step };
        const updated = await links.increment(key, 'quantity', consumed.quantity);
        if (!updated.affected) {
          await links.insert({
            ...key,
            quantity: consumed.quantity,
            unit: consumed.unit,
            createdAt: interval.from,
          });
        }
      }
    });
  }

  /** The lot's ancestors and descendants: breadth-first walks over the genealogy links. */
  async genealogy(lotId: string): Promise<Genealogy> {
    const lot = await this.getLot(lotId);
    const links = this.db.manager.getRepository(LotLinkEntity);
    const walk = async (direction: 'up' | 'down') => {
      const found: LotLinkEntity[] = [];
      const seen = new Set<string>([lotId]);
      let frontier = [lotId];
      while (frontier.length > 0) {
        const next = await links.find({
          where: direction === 'up' ? { toLotId: In(frontier) } : { fromLotId: In(frontier) },
          order: { id: 'ASC' },
        });
        frontier = [];
        for (const link of next) {
          found.push(link);
          const other = direction === 'up' ? link.fromLotId : link.toLotId;
          if (!seen.has(other)) {
            seen.add(other);
            frontier.push(other);
          }
        }
      }
      return found;
    };
    const [up, down] = [await walk('up'), await walk('down')];
    const ids = [...new Set([...up.map((l) => l.fromLotId), ...down.map((l) => l.toLotId)])];
    const lots = new Map(
      (ids.length
        ? await this.db.manager.getRepository(MaterialLotEntity).findBy({ id: In(ids) })
        : []
      ).map((l) => [l.id, l]),
    );
    return {
      lot,
      ancestors: up.map((l) => ({ ...l, lot: lots.get(l.fromLotId) })),
      descendants: down.map((l) => ({ ...l, lot: lots.get(l.toLotId) })),
    };
  }

  /** Sums of what each step produced and consumed for the order. */
  async performance(orderId: string): Promise<PerformanceTotal[]> {
    const rows: {
      step: string;
      material: string;
      kind: 'produced' | 'consumed';
      unit: string;
      quantity: string | number;
      inSpecQuantity: string | number;
      estimatedQuantity: string | number;
      unmeasuredIntervals: string | number;
      keyMoles: string | number | null;
    }[] = await this.db.manager
      .getRepository(PerformanceRecordEntity)
      .createQueryBuilder('p')
      .select('p.step', 'step')
      .addSelect('p.material', 'material')
      .addSelect('p.kind', 'kind')
      .addSelect('p.unit', 'unit')
      .addSelect('SUM(p.quantity)', 'quantity')
      .addSelect('SUM(p.inSpecQuantity)', 'inSpecQuantity')
      .addSelect('SUM(p.estimatedQuantity)', 'estimatedQuantity')
      .addSelect("SUM(CASE WHEN p.basis = 'unmeasured' THEN 1 ELSE 0 END)", 'unmeasuredIntervals')
      .addSelect('SUM(p.keyMoles)', 'keyMoles')
      .where('p.orderId = :orderId', { orderId })
      .groupBy('p.step')
      .addGroupBy('p.material')
      .addGroupBy('p.kind')
      .addGroupBy('p.unit')
      .orderBy('p.step')
      .addOrderBy('p.kind', 'DESC')
      .addOrderBy('p.material')
      .getRawMany();
    // SUM over double precision is a number on SQLite and a string from pg's driver.
    return rows.map((r) => ({
      ...r,
      quantity: Number(r.quantity),
      inSpecQuantity: Number(r.inSpecQuantity),
      estimatedQuantity: Number(r.estimatedQuantity),
      unmeasuredIntervals: Number(r.unmeasuredIntervals),
      keyMoles: r.keyMoles === null ? null : Number(r.keyMoles),
    }));
  }

  /** The notes behind the order's estimated and unmeasured figures, one row per distinct note. */
  async performanceNotes(orderId: string): Promise<PerformanceNote[]> {
    const rows: (Omit<PerformanceNote, 'intervals' | 'quantity' | 'estimatedQuantity'> & {
      intervals: string | number;
      quantity: string | number;
      estimatedQuantity: string | number;
    })[] = await this.db.manager
      .getRepository(PerformanceRecordEntity)
      .createQueryBuilder('p')
      .select('p.step', 'step')
      .addSelect('p.material', 'material')
      .addSelect('p.kind', 'kind')
      .addSelect('p.basis', 'basis')
      .addSelect('p.note', 'note')
      .addSelect('p.unit', 'unit')
      .addSelect('COUNT(*)', 'intervals')
      .addSelect('SUM(p.quantity)', 'quantity')
      .addSelect('SUM(p.estimatedQuantity)', 'estimatedQuantity')
      .where('p.orderId = :orderId', { orderId })
      .andWhere("p.basis <> 'measured'")
      .andWhere('p.note IS NOT NULL')
      .groupBy('p.step')
      .addGroupBy('p.material')
      .addGroupBy('p.kind')
      .addGroupBy('p.basis')
      .addGroupBy('p.note')
      .addGroupBy('p.unit')
      .orderBy('p.step')
      .addOrderBy('p.kind', 'DESC')
      .addOrderBy('p.material')
      .addOrderBy('p.note')
      .getRawMany();
    return rows.map((r) => ({
      ...r,
      intervals: Number(r.intervals),
      quantity: Number(r.quantity),
      estimatedQuantity: Number(r.estimatedQuantity),
    }));
  }

  async recordQuality(result: Omit<QualityResultEntity, 'id'>): Promise<void> {
    await this.db.transaction((m) => m.insert(QualityResultEntity, result));
  }

  async qualityResults(lotId: string, limit = 10_000): Promise<QualityResultEntity[]> {
    return this.db.manager
      .getRepository(QualityResultEntity)
      .find({ where: { lotId }, order: { sampledAt: 'ASC', id: 'ASC' }, take: limit });
  }
}
