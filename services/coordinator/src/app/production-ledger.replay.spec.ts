import { join } from 'node:path';
import { checkStoichiometry, keyReactantMoles, keyRequiredMoles } from '@pipac/control';
import {
  Quality,
  SensorReadingSchema,
  analyserMeasureTag,
  create,
  currentValueTag,
  tankLevelTag,
  timestampFromMs,
} from '@pipac/contracts';
import { AuditTrail, LotStore, OrderStore, type Database } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';
import { ManualClock, Plant } from '@pipac/twin';
import { CellReadings } from './cell-readings';
import { OrderKeeper } from './order-keeper';
import { ProductionLedger } from './production-ledger';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')));
const epoch = Date.UTC(2026, 10, 29, 8);

/** What the plant's sensors say now, as the coordinator hears it on the bus. */
function publish(plant: Plant, readings: CellReadings, plantModel: PlantModel): void {
  const at = epoch + plant.time * 1000;
  const send = (step: string, tag: string, value: number, time = at) =>
    readings.update(
      step,
      create(SensorReadingSchema, {
        location: { site: 's', cell: 'c', step, device: 'd' },
        tag,
        value,
        unit: '',
        quality: Number.isFinite(value) ? Quality.GOOD : Quality.BAD,
        timestamps: { source: timestampFromMs(time) },
      }),
    );
  plant.units.forEach((unit, s) => {
    const step = plantModel.steps[s]!;
    step.inlets.forEach((inlet, k) => send(step.id, currentValueTag(inlet.pump), unit.flow[k]!));
    const analyser = unit.analyser;
    const spec = step.spec.analyser;
    if (analyser && spec && Number.isFinite(analyser.latestSampledAt))
      spec.measures.forEach((measure, m) =>
        send(
          step.id,
          analyserMeasureTag(spec.tag, measure),
          analyser.latest[m]!,
          epoch + analyser.latestSampledAt * 1000,
        ),
      );
  });
  for (const tank of plantModel.tanks)
    send(plantModel.steps[tank.fillingStep]!.id, tankLevelTag(tank.id), plant.tank(tank.id).level);
}

/**
 * A replay on the twin: the nitration runs at steady state with tank-1 full of its product,
 * an order starts, and the nitration's phenol pump steps (the 4-nitrophenol it makes drops
 * or rises by a quarter at once), while the hydrogenation keeps drawing tank-1's older
 * material for the next 90 min. The hydrogenation's booked consumption must follow what it
 * really drew (the twin's own count of the 4-nitrophenol that entered it), and every step
 * must pass the stoichiometry check.
 */
describe.each([
  // Phenol pump at the recipe's flow, then at 0.55 of it: less 4-nitrophenol per litre.
  ['down', 1, 0.55],
  // The other way round (the twin's warm-up fills the tanks at the starting setpoints).
  ['up', 0.55, 1],
])(
  'production ledger replay: the nitration steps %s while tank-1 holds older material',
  (direction, from, to) => {
    let db: Database;
    let scratch: ReturnType<typeof scratchSqlite>;
    beforeAll(async () => {
      scratch = scratchSqlite();
      db = await scratch.open();
    });
    afterAll(async () => {
      await db.close();
      await scratch.dispose();
    });

    it('books consumption from the tank’s contents and passes the stoichiometry check', async () => {
      const plant = new Plant(model, { dt: 2, seed: 1, clock: new ManualClock(0) });
      const nitration = model.steps[0]!;
      const phenolPump = nitration.inlets.find((i) => i.source === 'feed' && i.sourceIndex === 0)!;
      plant.setSetpoint(phenolPump.pump, phenolPump.nominal * from);
      plant.warmUp(1800);
      const clock = () => epoch + plant.time * 1000;
      const audit = new AuditTrail(db, clock);
      const orders = new OrderStore(db, audit, { cell: 'c', clock });
      const lots = new LotStore(db);
      const keeper = new OrderKeeper({
        model,
        orders,
        lots,
        ledger: new ProductionLedger(model),
        clock,
      });
      const { order } = await orders.create({ kind: 'client', id: 'erp' }, 'replay', {
        erpReference: 'REPLAY-1',
        product: 'paracetamol',
        quantity: 1000,
        unit: 'g',
        release: true,
      });
      const readings = new CellReadings();
      publish(plant, readings, model);
      await keeper.cycle(readings, 0); // takes the order; tank-1 holds 1 L made before it
      const analyserTag = new ProductionLedger(model).productTag(nitration)!;
      const before = readings.good(analyserTag)!;
      plant.setSetpoint(phenolPump.pump, phenolPump.nominal * to);
      const hydrogenation = plant.units[1]!;
      hydrogenation.resetTotals();
      for (let minute = 0; minute < 90; minute++) {
        plant.run(60);
        publish(plant, readings, model);
        await keeper.cycle(readings, 60);
      }
      // The nitration's analyser now reads well away from what tank-1 held at the start.
      const after = readings.good(analyserTag)!;
      if (direction === 'down') expect(after / before).toBeLessThan(0.88);
      else expect(after / before).toBeGreaterThan(1.12);

      const performance = await lots.performance(order.id);
      const consumed = performance.find(
        (p) =>
          p.step === 'hydrogenation' && p.kind === 'consumed' && p.material === '4-nitrophenol',
      )!;
      // What really entered the hydrogenation, from the twin (mol → g).
      const molarMass = model.molarMass[model.speciesIndex.get('4-nitrophenol')!]!;
      const truth = hydrogenation.totals.keyIn * molarMass;
      expect(truth).toBeGreaterThan(20);
      // Within the analysers' noise and the one-minute booking grid, not the 12 %+ step.
      expect(consumed.quantity / truth).toBeGreaterThan(0.97);
      expect(consumed.quantity / truth).toBeLessThan(1.03);

      for (const step of model.steps) {
        const made = performance.find((p) => p.step === step.id && p.kind === 'produced')!;
        const keyConsumed = performance
          .filter((p) => p.step === step.id && p.kind === 'consumed')
          .reduce((sum, p) => sum + keyReactantMoles(model, step, p), 0);
        const result = checkStoichiometry({
          step: step.id,
          product: step.spec.product,
          keyReactant: step.spec.keyReactant,
          produced: made.quantity,
          keyRequired: keyRequiredMoles(model, step, made.quantity),
          keyConsumed,
        });
        // The reason says the figures when it fails.
        expect(`${step.id} ${result.status}: ${result.reason}`).toMatch(
          new RegExp(`^${step.id} pass:`),
        );
      }
    }, 60_000);
  },
);
