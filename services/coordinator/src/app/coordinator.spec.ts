import { join } from 'node:path';
import { InProcessBus, publishEvent } from '@pipac/bus';
import {
  Issuer_Kind,
  Mode,
  Quality,
  STEP_MODE_FEEDBACK,
  DeviceStateSchema,
  SensorReadingSchema,
  SetpointCommandSchema,
  WriteConfirmationSchema,
  WriteConfirmation_Outcome,
  create,
  deviceStateCodec,
  setpointCommandCodec,
  stepTopics,
  timestampFromMs,
  topicName,
  writeConfirmationCodec,
  currentValueTag,
} from '@pipac/contracts';
import { AuditTrail } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { AuditRecorder } from './audit-recorder';
import { CellReadings } from './cell-readings';
import { ProductionLedger, type LedgerLabels } from './production-ledger';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')));
const at = Date.UTC(2026, 10, 29, 8);

function reading(tag: string, value: number, time = at, quality = Quality.GOOD) {
  return create(SensorReadingSchema, {
    location: { site: 's', cell: 'c', step: 'x', device: 'd' },
    tag,
    value,
    unit: '',
    quality,
    timestamps: { source: timestampFromMs(time) },
  });
}

const labels: LedgerLabels = {
  fill: (step) => `lot.${step.id}`,
  opening: (tank) => `lot.${tank.id}.opening`,
};

describe('ProductionLedger', () => {
  const ledger = new ProductionLedger(model);
  const acetylation = model.steps[2]!;

  it('books product from the outlet flow and the measured concentration, in spec by conversion', () => {
    const readings = new CellReadings();
    for (const inlet of acetylation.inlets)
      readings.update('acetylation', reading(currentValueTag(inlet.pump), inlet.nominal));
    const product = ledger.productTag(acetylation)!;
    readings.update('acetylation', reading(product, 0.5));
    readings.update('acetylation', reading(ledger.conversionTag(acetylation)!, 0.99));
    // The hydrogenation's product, drawn from tank-2.
    readings.update('hydrogenation', reading(ledger.productTag(model.steps[1]!)!, 0.4));
    const [, , made] = ledger.advance(readings, 60, labels).actuals;
    const liquid = acetylation.inlets.filter((i) => !i.gas).reduce((sum, i) => sum + i.nominal, 0);
    const molarMass = model.molarMass[model.speciesIndex.get('paracetamol')!]!;
    // mL/min over 60 s, in L, times mol/L, times g/mol.
    expect(made!.produced).toBeCloseTo((liquid / 1000) * 0.5 * molarMass, 9);
    expect(made!.inSpec).toBe(made!.produced);
    const drawn = made!.inputs.find((i) => i.kind === 'tank')!;
    // No tank-2 level reading yet: its contents are unknown, the draw is valued at the filler's
    // analyser and booked as an estimate, saying so.
    expect(drawn).toMatchObject({
      source: 'tank-2',
      material: '4-aminophenol',
      unit: 'g',
      basis: 'estimated',
    });
    expect(drawn.note).toMatch(/tank-2's contents not known yet/);
    expect(drawn.quantity).toBeCloseTo(drawn.estimated, 12);
    expect(drawn.quantity).toBeGreaterThan(0);
    readings.update('acetylation', reading(ledger.conversionTag(acetylation)!, 0.5, at + 1000));
    expect(ledger.advance(readings, 60, labels).actuals[2]!.inSpec).toBe(0);
  });

  it('books nothing it cannot measure, and says why', () => {
    const readings = new CellReadings();
    for (const inlet of acetylation.inlets)
      readings.update('acetylation', reading(currentValueTag(inlet.pump), inlet.nominal));
    readings.update('acetylation', reading(ledger.productTag(acetylation)!, 0.5, at, Quality.BAD));
    const made = ledger.advance(readings, 60, labels).actuals[2]!;
    expect(made.produced).toBe(0);
    expect(made.unmeasured).toMatch(/no good AT-301\.paracetamol reading/);
    expect(made.basis).toBe('unmeasured');
  });

  it('holds a bad reading at its last good value and books the figure as an estimate', () => {
    const readings = new CellReadings();
    const pumps = acetylation.inlets.map((inlet) => currentValueTag(inlet.pump));
    for (const [k, inlet] of acetylation.inlets.entries())
      readings.update('acetylation', reading(pumps[k]!, inlet.nominal));
    readings.update('acetylation', reading(ledger.productTag(acetylation)!, 0.5));
    const measured = ledger.advance(readings, 60, labels).actuals[2]!;
    expect(measured.basis).toBe('measured');
    readings.update('acetylation', reading(pumps[0]!, 0, at + 1000, Quality.BAD));
    const held = ledger.advance(readings, 60, labels).actuals[2]!;
    expect(held).toMatchObject({ basis: 'estimated', inSpec: 0 });
    expect(held.produced).toBeCloseTo(measured.produced, 12);
    expect(held.estimated).toBe(held.produced);
    expect(held.note).toMatch(
      new RegExp(`no good ${pumps[0]!.replace('.', '\\.')} reading: its last good value`),
    );
  });
});

describe('AuditRecorder', () => {
  it("records confirmed changes with their command, refusals, and the agents' mode feedback", async () => {
    const bus = new InProcessBus();
    await bus.connect();
    const scratch = scratchSqlite();
    const db = await scratch.open();
    const audit = new AuditTrail(db, () => at);
    await bus.ensureTopics([
      ...stepTopics('s', 'c', 'nitration'),
      { name: 'pipac.s.c.dead-letter' },
    ]);
    const recorder = new AuditRecorder({
      site: 's',
      cell: 'c',
      steps: ['nitration'],
      bus,
      audit,
      context: () => ({ orderId: 'order-1', lotId: 'lot-1' }),
      flushMs: 10_000,
    });
    await recorder.start();
    const topic = (stream: 'setpoints' | 'confirmations' | 'state') =>
      topicName({ site: 's', cell: 'c', step: 'nitration', stream });
    const command = (id: string, value: number) =>
      create(SetpointCommandSchema, {
        commandId: id,
        location: { site: 's', cell: 'c', step: 'nitration', device: 'nitration-module' },
        targetTag: 'P-101',
        value,
        unit: 'mL/min',
        issuer: { kind: Issuer_Kind.AGENT, id: 'step-agent/nitration', modelVersion: 'sha256:abc' },
        reason: 'agent action',
        issuedAt: timestampFromMs(at),
        deadline: timestampFromMs(at + 60_000),
        traceId: '0af7651916cd43dd8448eb211c80319c',
      });
    const confirmation = (id: string, value: number, outcome: WriteConfirmation_Outcome) =>
      create(WriteConfirmationSchema, {
        commandId: id,
        location: { site: 's', cell: 'c', step: 'nitration', device: 'nitration-module' },
        targetTag: 'P-101',
        outcome,
        valueReadBack: value,
        unit: 'mL/min',
        reason: outcome === WriteConfirmation_Outcome.APPLIED ? '' : 'above 12 mL/min',
        receivedAt: timestampFromMs(at),
        confirmedAt: timestampFromMs(at + 5),
      });
    for (const [id, value, outcome] of [
      ['c1', 6.2, WriteConfirmation_Outcome.APPLIED],
      ['c2', 6.2, WriteConfirmation_Outcome.APPLIED], // unchanged: not a change
      ['c3', 6.5, WriteConfirmation_Outcome.APPLIED],
      ['c4', 13, WriteConfirmation_Outcome.REFUSED_LIMITS],
    ] as const) {
      await publishEvent(
        bus,
        topic('setpoints'),
        setpointCommandCodec,
        'P-101',
        command(id, value),
      );
      await publishEvent(
        bus,
        topic('confirmations'),
        writeConfirmationCodec,
        'P-101',
        confirmation(id, value, outcome),
      );
    }
    await publishEvent(
      bus,
      topic('state'),
      deviceStateCodec,
      'nitration',
      create(DeviceStateSchema, {
        location: { site: 's', cell: 'c', step: 'nitration', device: '' },
        mode: Mode.OPERATOR,
        state: STEP_MODE_FEEDBACK,
        changedBy: { kind: Issuer_Kind.USER, id: 'j.doe' },
        reason: 'sampling',
        changedAt: timestampFromMs(at + 10),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await recorder.stop();
    const entries = await audit.entries();
    const rows = entries.map((e) => [e.kind, e.actor, e.oldValue, e.newValue, e.lotId]);
    // In order within a stream; the mode feedback comes on another topic, so its place among
    // the setpoint entries is whenever it arrived.
    expect(rows.filter(([kind]) => kind !== 'mode')).toEqual([
      ['setpoint', 'step-agent/nitration', null, '6.2', 'lot-1'],
      ['setpoint', 'step-agent/nitration', '6.2', '6.5', 'lot-1'],
      ['setpoint.refused', 'step-agent/nitration', '6.5', '13', 'lot-1'],
    ]);
    expect(rows.filter(([kind]) => kind === 'mode')).toEqual([
      ['mode', 'j.doe', null, 'Operator', 'lot-1'],
    ]);
    expect(entries[0]).toMatchObject({
      modelVersion: 'sha256:abc',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      device: 'nitration-module',
      unit: 'mL/min',
    });
    expect(entries.find((e) => e.kind === 'setpoint.refused')!.reason).toMatch(
      /refused: outside the engineering limits: above 12 mL\/min/,
    );
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 4 });
    await db.close();
    await bus.disconnect();
    await scratch.dispose();
  });
});
