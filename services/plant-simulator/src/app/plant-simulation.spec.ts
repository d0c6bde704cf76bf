import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { Plant, buildScenario } from '@pipac/twin';
import { TargetRefusedError, describePlantDevices } from '@pipac/opcua';
import { PlantSimulation, type DeviceValueSink } from './plant-simulation';

const recipe = loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml'));

class RecordingSink implements DeviceValueSink {
  readonly updates: { tag: string; value: number; sourceTime: number }[] = [];
  readonly failures: string[] = [];
  readonly states: string[] = [];
  update(tag: string, update: { value: number; sourceTime: Date }): void {
    this.updates.push({ tag, value: update.value, sourceTime: update.sourceTime.getTime() });
  }
  fail(tag: string): void {
    this.failures.push(tag);
  }
  setUnitState(device: string, unit: string, state: string): void {
    this.states.push(`${device}/${unit}:${state}`);
  }
  last(tag: string) {
    return this.updates.filter((u) => u.tag === tag).at(-1);
  }
}

function setup(timeFactor: number) {
  const model = compilePlant(recipe);
  const plant = new Plant(model, { dt: 1 });
  let wall = 1_700_000_000_000;
  const sink = new RecordingSink();
  const simulation = new PlantSimulation(plant, describePlantDevices(model), sink, {
    timeFactor,
    now: () => wall,
  });
  simulation.start();
  return {
    plant,
    sink,
    simulation,
    advance: (ms: number) => (wall += ms),
    start: 1_700_000_000_000,
  };
}

describe('PlantSimulation', () => {
  it('follows the wall clock at the time factor, in whole plant steps', () => {
    const { simulation, advance } = setup(60);
    advance(10_000);
    expect(simulation.tick()).toBe(600);
    advance(25);
    expect(simulation.tick()).toBe(1);
    expect(simulation.tick()).toBe(0);
    expect(simulation.simulatedSeconds).toBe(601);
  });

  it("lets the plant's clock slip rather than compute past a tick's budget", () => {
    // A wall clock that moves 20 ms with every reading: each plant step "takes" 20 ms.
    const model = compilePlant(recipe);
    const plant = new Plant(model, { dt: 1 });
    let wall = 1_700_000_000_000;
    const simulation = new PlantSimulation(plant, [], new RecordingSink(), {
      timeFactor: 60,
      now: () => (wall += 20),
      tickBudgetMs: 50,
    });
    simulation.start();
    wall += 10_000; // 600 steps due
    expect(simulation.tick()).toBe(3); // 20, 40, 60 ms: the budget is spent after the third
    expect(simulation.slippedSteps).toBe(598);
    // The backlog is gone: the next tick owes only what the wall clock added since.
    wall += 1000;
    const taken = simulation.tick();
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThanOrEqual(3);
    expect(simulation.slippedSteps).toBeLessThan(598 + 70);
  });

  it('publishes every module value with the simulated time as source time', () => {
    const { sink, simulation, advance, start } = setup(10);
    advance(1000);
    simulation.tick();
    const flow = sink.last('P-101.PV')!;
    expect(flow.value).toBeCloseTo(6, 6);
    expect(flow.sourceTime).toBe(start + 10_000);
    for (const tag of [
      'TC-101.PV',
      'PCV-101.PV',
      'R-nitration.TI-hot',
      'R-nitration.TI-out',
      'R-nitration.PI-in',
    ]) {
      expect(Number.isFinite(sink.last(tag)?.value)).toBe(true);
    }
  });

  it("publishes the surge tanks' levels as the twin holds them", () => {
    const { plant, sink, simulation, advance } = setup(60);
    plant.setSetpoint('P-201', 0); // hydrogenation stops drawing from tank-1: it fills
    advance(10_000);
    simulation.tick();
    expect(sink.last('tank-1.LI')!.value).toBeCloseTo(plant.tank('tank-1').level, 12);
    expect(sink.last('tank-1.LI')!.value).toBeGreaterThan(1.02);
    expect(sink.last('tank-2.LI')!.value).toBeLessThan(1);
  });

  it('publishes each analyser result once, stamped with the time its sample was drawn', () => {
    const { sink, simulation, advance, start } = setup(100);
    advance(10_000); // 1000 s: results of the samples at 60 … 840 s (120 s dead time)
    for (let i = 0; i < 10; i++) {
      advance(100);
      simulation.tick();
    }
    const conversions = sink.updates.filter((u) => u.tag === 'AT-101.conversion');
    const times = conversions.map((u) => (u.sourceTime - start) / 1000);
    expect(new Set(times).size).toBe(times.length);
    expect(times.every((t) => t % 60 === 0)).toBe(true);
    expect(conversions.at(-1)!.value).toBeGreaterThan(0.5);
  });

  it('turns an analyser outage into bad values and an Aborted unit, and back', () => {
    const model = compilePlant(recipe);
    const duration = 8 * 3600;
    const plant = new Plant(model, {
      scenario: buildScenario('analyser-outage', model, 1, duration),
    });
    let wall = 0;
    const sink = new RecordingSink();
    const simulation = new PlantSimulation(plant, describePlantDevices(model), sink, {
      timeFactor: 1000,
      now: () => wall,
    });
    simulation.start();
    while (simulation.simulatedSeconds < duration) {
      wall += 1000;
      simulation.tick();
    }
    const aborted = sink.states.filter((s) => s.endsWith(':Aborted'));
    expect(aborted.length).toBeGreaterThan(0);
    const [unit] = aborted[0]!.split(':');
    expect(sink.states.filter((s) => s.startsWith(`${unit!}:`))).toEqual(
      sink.states
        .filter((s) => s.startsWith(`${unit!}:`))
        .map((_, i) => `${unit!}:${i % 2 === 0 ? 'Aborted' : 'Running'}`),
    );
    expect(sink.failures.length).toBeGreaterThan(0);
  });

  it('hands setpoints written to a device to the twin', () => {
    const { plant, sink, simulation, advance } = setup(10);
    simulation.applySetpoint('P-101', 9);
    expect(plant.getSetpoint('P-101')).toBe(9);
    advance(3000); // 30 s against a 2 s pump lag
    simulation.tick();
    expect(sink.last('P-101.PV')!.value).toBeCloseTo(9, 3);
  });

  it('refuses a setpoint the plant cannot apply as a TargetRefusedError, and keeps the last one', () => {
    const { plant, simulation } = setup(10);
    simulation.applySetpoint('P-101', 9);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => simulation.applySetpoint('P-101', bad)).toThrow(TargetRefusedError);
    }
    expect(plant.getSetpoint('P-101')).toBe(9);
  });

  it('refuses a time factor that is not positive', () => {
    const model = compilePlant(recipe);
    expect(
      () => new PlantSimulation(new Plant(model), [], new RecordingSink(), { timeFactor: 0 }),
    ).toThrow(/time factor must be positive/);
  });
});
