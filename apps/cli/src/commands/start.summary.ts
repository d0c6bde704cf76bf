import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Cell } from '@pipac/cell';
import type { Stores } from '@pipac/erp-gateway';
import { formatTable } from '../format/table';

type LotPerformance = Awaited<ReturnType<Stores['lots']['performance']>>;

/** What `pipac start` prints once the order is done: what was made, the audit trail, the batch record. */
export async function summarise(
  cell: Cell,
  stores: Stores,
  orderId: string,
  out: (line: string) => void,
): Promise<void> {
  // The last events (confirmations, the completion) reach the audit trail first.
  await cell.coordinator.recorder.flush();
  const order = await stores.orders.get(orderId);
  const lots = await stores.lots.lotsOfOrder(orderId);
  const performance = await stores.lots.performance(orderId);
  const verification = await stores.audit.verify();
  const wall =
    order.startedAt && order.endedAt
      ? (Date.parse(order.endedAt) - Date.parse(order.startedAt)) / 1000
      : Number.NaN;
  out('');
  out(
    `order ${order.erpReference}: ${order.state}, ${order.producedQuantity.toFixed(2)} of ${order.quantity} ${order.unit} made in spec` +
      (Number.isFinite(wall) ? ` in ${(wall / 3600).toFixed(2)} h of plant time` : ''),
  );
  out(performanceTable(cell, performance));
  out(`lots: ${lots.map((l) => l.id).join(', ')}`);
  out(
    `audit trail: ${verification.ok ? `verified, ${verification.entries} entries` : `BROKEN at entry ${verification.broken?.sequence} (pipac audit verify names every finding)`}`,
  );
  if (order.outputLotId) await saveBatchRecord(cell, order.outputLotId, out);
}

/** One line per step: what it made, how much in spec, and what it consumed. */
function performanceTable(cell: Cell, performance: LotPerformance): string {
  return formatTable(
    ['step', 'material', 'produced, g', 'in spec, g', 'consumed'],
    cell.model.steps.map((step) => {
      const made = performance.find((p) => p.step === step.id && p.kind === 'produced');
      const used = performance
        .filter((p) => p.step === step.id && p.kind === 'consumed')
        .map(
          (p) =>
            `${p.quantity.toFixed(1)} ${p.unit} ${p.material}` +
            (p.estimatedQuantity > 0 ? ` (${p.estimatedQuantity.toFixed(1)} estimated)` : '') +
            (p.unmeasuredIntervals > 0 ? ` (${p.unmeasuredIntervals} intervals unmeasured)` : ''),
        )
        .join(', ');
      return [
        step.id,
        made?.material ?? step.spec.product,
        (made?.quantity ?? 0).toFixed(2),
        (made?.inSpecQuantity ?? 0).toFixed(2),
        used,
      ];
    }),
  );
}

/** Fetches the final lot's batch record over REST, saves it under .pipac/batch-records, says what it holds. */
async function saveBatchRecord(
  cell: Cell,
  finalLot: string,
  out: (line: string) => void,
): Promise<void> {
  const response = await fetch(
    `${cell.url}/api/v1/lots/${encodeURIComponent(finalLot)}/batch-record`,
    {
      headers: { authorization: `Bearer ${cell.client.key}` },
    },
  );
  const record = await response.text();
  const dir = resolve('.pipac', 'batch-records');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${finalLot}.json`);
  writeFileSync(file, record);
  const parsed = JSON.parse(record) as {
    setpointChanges?: unknown[];
    modeChanges?: unknown[];
    alarms?: unknown[];
    qualityResults?: unknown[];
    stoichiometry?: { step: string; status: string; reason: string }[];
  };
  out(`batch record of lot ${finalLot}: ${file}`);
  for (const check of parsed.stoichiometry ?? [])
    out(`  stoichiometry ${check.step}: ${check.status.toUpperCase()}: ${check.reason}`);
  out(
    `  ${parsed.setpointChanges?.length ?? 0} setpoint changes, ${parsed.modeChanges?.length ?? 0} mode changes, ` +
      `${parsed.alarms?.length ?? 0} alarms, ${parsed.qualityResults?.length ?? 0} quality results`,
  );
  out(
    `  over REST: GET ${cell.url}/api/v1/lots/${encodeURIComponent(finalLot)}/batch-record (with an API key)`,
  );
}
