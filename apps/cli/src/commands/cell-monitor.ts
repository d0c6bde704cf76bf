import type { Cell } from '@pipac/cell';
import type { Stores } from '@pipac/erp-gateway';
import type { ProductionOrderEntity } from '@pipac/persistence';

export interface StepLine {
  step: string;
  mode: string;
  conversion: number | undefined;
  flow: number | undefined;
  target: string;
  capacity: number | undefined;
}

export interface CellSnapshot {
  /** Simulated seconds since the cell started. */
  elapsed: number;
  order: ProductionOrderEntity | undefined;
  steps: StepLine[];
  tanks: Record<string, number>;
  alarms: number;
  auditEntries: number;
  waiting?: string;
}

/** What `pipac start` shows while the cell runs: the order, each step, the tanks, alarms. */
export class CellMonitor {
  private readonly startedAt: number;
  private drawn = 0;

  constructor(
    private readonly cell: Cell,
    private readonly tty: boolean,
    /** The gateway's records (`cell.gateway.app.get(Stores)`). */
    private readonly stores: Stores,
  ) {
    this.startedAt = cell.now();
  }

  async snapshot(orderId: string | undefined): Promise<CellSnapshot> {
    const { cell, stores } = this;
    const id = orderId ?? cell.coordinator.keeper.active?.order.id;
    const order = id ? await stores.orders.get(id) : undefined;
    const report = cell.coordinator.last;
    const steps = cell.agents.map((agent): StepLine => {
      const step = agent.space.step.id;
      const status = cell.coordinator.readings.status(step);
      const target = report?.decision?.targets.find((t) => t.step === step);
      const capacity = report?.steps[step]?.capacity;
      return {
        step,
        mode:
          agent.mode === 'automatic'
            ? agent.paused
              ? 'automatic, paused'
              : `automatic`
            : agent.mode,
        conversion:
          status && Number.isFinite(status.conversion) && status.conversion > 0
            ? status.conversion
            : undefined,
        flow: status?.outletFlow,
        target: !target
          ? '-'
          : target.action === 'pause'
            ? 'pause'
            : target.action === 'none'
              ? 'none'
              : target.scale.toFixed(2),
        capacity: capacity !== undefined && Number.isFinite(capacity) ? capacity : undefined,
      };
    });
    return {
      elapsed: (cell.now() - this.startedAt) / 1000,
      order,
      steps,
      tanks: report?.tanks ?? {},
      alarms: cell.coordinator.recorder.counts['alarm'] ?? 0,
      auditEntries: cell.coordinator.recorder.written,
      ...(report?.waiting ? { waiting: report.waiting } : {}),
    };
  }

  render(snapshot: CellSnapshot): void {
    const lines = this.tty ? block(snapshot) : [line(snapshot)];
    if (this.tty && this.drawn > 0) process.stdout.write(`\x1b[${this.drawn}F\x1b[J`);
    process.stdout.write(`${lines.join('\n')}\n`);
    this.drawn = this.tty ? lines.length : 0;
  }
}

function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function orderText(order: ProductionOrderEntity | undefined): string {
  if (!order) return 'no order';
  const fraction = Math.min(1, order.producedQuantity / order.quantity);
  return `${order.erpReference} ${order.state} ${order.producedQuantity.toFixed(2)}/${order.quantity} ${order.unit} (${Math.round(fraction * 100)} %)`;
}

const num = (value: number | undefined, digits: number) =>
  value === undefined ? '-' : value.toFixed(digits);

/** One line per refresh, for logs. */
function line(s: CellSnapshot): string {
  const steps = s.steps.map(
    (st) =>
      `${st.step} ${st.mode} X=${num(st.conversion, 3)} ${num(st.flow, 2)} mL/min → ${st.target}`,
  );
  const tanks = Object.entries(s.tanks).map(([id, level]) => `${id} ${level.toFixed(2)} L`);
  return `[${clock(s.elapsed)}] ${orderText(s.order)} | ${steps.join(' | ')} | ${tanks.join(' ')} | alarms ${s.alarms}`;
}

/** A block redrawn in place, for a terminal. */
function block(s: CellSnapshot): string[] {
  const bar = (fraction: number) => {
    const width = 24;
    const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
  };
  const fraction = s.order ? s.order.producedQuantity / s.order.quantity : 0;
  return [
    `plant time ${clock(s.elapsed)}   order ${orderText(s.order)}  ${s.order ? bar(fraction) : ''}`,
    `  ${'step'.padEnd(15)}${'mode'.padEnd(20)}${'conversion'.padEnd(12)}${'flow mL/min'.padEnd(13)}${'target'.padEnd(8)}capacity`,
    ...s.steps.map(
      (st) =>
        `  ${st.step.padEnd(15)}${st.mode.padEnd(20)}${num(st.conversion, 3).padEnd(12)}${num(st.flow, 2).padEnd(13)}${st.target.padEnd(8)}${num(st.capacity, 2)}`,
    ),
    `  tanks: ${
      Object.entries(s.tanks)
        .map(([id, level]) => `${id} ${level.toFixed(2)} L`)
        .join('   ') ||
      s.waiting ||
      '-'
    }` + `   alarms: ${s.alarms}   audit entries: ${s.auditEntries}`,
  ];
}
