import { checkStoichiometry, type StoichiometryCheck } from '@pipac/control';
import type {
  AuditEntryEntity,
  AuditVerification,
  Genealogy,
  MaterialLotEntity,
  PerformanceNote,
  PerformanceTotal,
  QualityResultEntity,
} from '@pipac/persistence';
import type { Stores } from '../stores';
import { orderView, type OrderView } from '../orders/order.dto';

/** What the audit trail says about one kind of event, as the batch record lists it. */
export interface BatchEvent {
  sequence: number;
  at: string;
  actor: string;
  actorKind: string;
  step: string | null;
  device: string | null;
  object: string;
  oldValue: string | null;
  newValue: string | null;
  unit: string | null;
  reason: string;
  traceId: string | null;
  modelVersion: string | null;
}

/**
 * The electronic batch record of a lot (ISA-88 / 21 CFR Part 211.188 in spirit): the lot,
 * its order, its genealogy, what each step made and consumed, every setpoint and mode change
 * and alarm while it was made, the model versions that decided, the quality results of it and
 * its ancestors, and whether the audit trail behind it verifies. Each step's figures are
 * checked against stoichiometry (no step may report more product than the key reactant it
 * consumed allows), and every estimated or unmeasured figure is listed with its reason.
 */
export interface BatchRecord {
  generatedAt: string;
  lot: MaterialLotEntity;
  order: OrderView | null;
  genealogy: Pick<Genealogy, 'ancestors' | 'descendants'>;
  performance: PerformanceTotal[];
  /** Per step, its product against the key reactant it consumed (libs/control's checkStoichiometry). */
  stoichiometry: StoichiometryCheck[];
  /** Why some figures of `performance` are estimated or unmeasured. */
  estimates: PerformanceNote[];
  orderEvents: BatchEvent[];
  setpointChanges: BatchEvent[];
  modeChanges: BatchEvent[];
  alarms: BatchEvent[];
  modelVersions: { step: string; version: string; firstUsed: string; lastUsed: string }[];
  qualityResults: QualityResultEntity[];
  auditTrail: AuditVerification;
}

/** Most audit entries one batch record lists; more is a sign of a runaway writer. */
const MAX_EVENTS = 100_000;

export async function batchRecord(stores: Stores, lotId: string): Promise<BatchRecord> {
  const genealogy = await stores.lots.genealogy(lotId);
  const { lot } = genealogy;
  const order = lot.orderId
    ? await stores.orders.get(lot.orderId).catch(() => undefined)
    : undefined;
  const entries: AuditEntryEntity[] = [];
  if (order) {
    let after: number | undefined;
    for (;;) {
      const page = await stores.audit.entries({
        orderId: order.id,
        limit: 5000,
        ...(after ? { after } : {}),
      });
      entries.push(...page);
      if (page.length < 5000 || entries.length >= MAX_EVENTS) break;
      after = page[page.length - 1]!.sequence;
    }
  }
  const ofKind = (...kinds: string[]) => entries.filter((e) => kinds.includes(e.kind)).map(event);
  const lotsOfRecord = [lot.id, ...genealogy.ancestors.map((a) => a.fromLotId)];
  const quality = (
    await Promise.all(lotsOfRecord.map((id) => stores.lots.qualityResults(id)))
  ).flat();
  const performance = order ? await stores.lots.performance(order.id) : [];
  const estimates = order ? await stores.lots.performanceNotes(order.id) : [];
  return {
    generatedAt: new Date(stores.clock()).toISOString(),
    lot,
    order: order ? orderView(order) : null,
    genealogy: { ancestors: genealogy.ancestors, descendants: genealogy.descendants },
    performance,
    stoichiometry: stoichiometry(performance, estimates),
    estimates,
    orderEvents: ofKind('order.state'),
    setpointChanges: ofKind('setpoint', 'setpoint.refused'),
    modeChanges: ofKind('mode'),
    alarms: ofKind('alarm'),
    modelVersions: modelVersions(entries),
    qualityResults: quality.sort((a, b) => a.sampledAt.localeCompare(b.sampledAt)),
    auditTrail: await stores.audit.verify(),
  };
}

/**
 * The check per step from the booked sums: the key-reactant moles the coordinator recorded
 * with each figure (what each input carried, what the product needs). Steps booked before
 * those were recorded (keyMoles null) are left out.
 */
function stoichiometry(
  performance: PerformanceTotal[],
  estimates: PerformanceNote[],
): StoichiometryCheck[] {
  return performance
    .filter((p) => p.kind === 'produced' && p.keyMoles !== null)
    .map((made) => {
      const inputs = performance.filter((p) => p.step === made.step && p.kind === 'consumed');
      const key = inputs.reduce<PerformanceTotal | undefined>(
        (best, p) => ((p.keyMoles ?? 0) > (best?.keyMoles ?? 0) ? p : best),
        undefined,
      );
      const keyMoles = (p: PerformanceTotal) => Math.max(0, p.keyMoles ?? 0);
      return checkStoichiometry({
        step: made.step,
        product: made.material,
        keyReactant: key?.material ?? 'key reactant',
        produced: Math.max(0, made.quantity),
        keyRequired: keyMoles(made),
        keyConsumed: inputs.reduce((sum, p) => sum + keyMoles(p), 0),
        keyEstimated: inputs.reduce(
          (sum, p) => sum + (p.quantity > 0 ? (keyMoles(p) * p.estimatedQuantity) / p.quantity : 0),
          0,
        ),
        unmeasured: estimates
          .filter((e) => e.step === made.step && e.kind === 'consumed' && e.basis === 'unmeasured')
          .map((e) => `${e.note} (${e.intervals} interval${e.intervals === 1 ? '' : 's'})`),
      });
    });
}

function event(entry: AuditEntryEntity): BatchEvent {
  return {
    sequence: entry.sequence,
    at: entry.at,
    actor: entry.actor,
    actorKind: entry.actorKind,
    step: entry.step,
    device: entry.device,
    object: entry.object,
    oldValue: entry.oldValue,
    newValue: entry.newValue,
    unit: entry.unit,
    reason: entry.reason,
    traceId: entry.traceId,
    modelVersion: entry.modelVersion,
  };
}

function modelVersions(entries: AuditEntryEntity[]): BatchRecord['modelVersions'] {
  const used = new Map<
    string,
    { step: string; version: string; firstUsed: string; lastUsed: string }
  >();
  for (const entry of entries) {
    if (!entry.modelVersion || !entry.step) continue;
    const key = `${entry.step}\u0000${entry.modelVersion}`;
    const seen = used.get(key);
    if (seen) seen.lastUsed = entry.at;
    else
      used.set(key, {
        step: entry.step,
        version: entry.modelVersion,
        firstUsed: entry.at,
        lastUsed: entry.at,
      });
  }
  return [...used.values()];
}
