import { join } from 'node:path';
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';
import { buildScenario } from './disturbances';
import { Plant } from './plant';
import { SimulationError } from './simulation.error';
import { stepsReaching } from './step-dependencies';

const RECIPES = join(__dirname, '../../../../../recipes');

/** Just the topology stepsReaching reads: each step's sources and outlet tank. */
function topology(steps: [id: string, sources: string[], outletTank: number][]): PlantModel {
  return {
    steps: steps.map(([id, sources, outletTank]) => ({
      id,
      outletTank,
      inlets: sources.map((s) => ({
        source: s.startsWith('tank') ? 'tank' : 'feed',
        sourceIndex: Number(s.slice(4)),
      })),
    })),
  } as unknown as PlantModel;
}

describe('stepsReaching', () => {
  it('in a line, a step needs the steps before it and none after', () => {
    const line = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
    expect(stepsReaching(line, 'nitration')).toEqual([true, false, false]);
    expect(stepsReaching(line, 'hydrogenation')).toEqual([true, true, false]);
    expect(stepsReaching(line, 'acetylation')).toEqual([true, true, true]);
  });

  it('takes in the steps that share a tank or a feed vessel, and what fills their tanks', () => {
    // a fills tank0; b and c both draw tank0; c also draws feed1, which d draws too; d fills
    // tank1, which e draws; f draws feed2 only.
    const plant = topology([
      ['a', ['feed0'], 0],
      ['b', ['tank0'], -1],
      ['c', ['tank0', 'feed1'], -1],
      ['d', ['feed1'], 1],
      ['e', ['tank1'], -1],
      ['f', ['feed2'], -1],
    ]);
    expect(stepsReaching(plant, 'b')).toEqual([true, true, true, true, false, false]);
    expect(stepsReaching(plant, 'e')).toEqual([true, true, true, true, true, false]);
    expect(stepsReaching(plant, 'f')).toEqual([false, false, false, false, false, true]);
  });

  it('names the steps there are when asked for one the plant lacks', () => {
    const plant = topology([['a', ['feed0'], -1]]);
    expect(() => stepsReaching(plant, 'z')).toThrow(SimulationError);
    expect(() => stepsReaching(plant, 'z')).toThrow('unknown step "z"; known: a');
  });
});

describe('a plant focused on one step', () => {
  const model = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));

  /** Two hours of the combined scenario with the focus step's setpoints moved twice. */
  function run(stepId: string, focus: boolean): Plant {
    const scenario = buildScenario('combined', model, 7, 7200);
    const plant = new Plant(model, {
      dt: 2,
      seed: 8,
      scenario,
      ...(focus ? { focus: stepId } : {}),
    });
    plant.warmUp(1800);
    const step = model.steps.find((s) => s.id === stepId)!;
    const pump = step.inlets[0]!.pump;
    const start = plant.getSetpoint(pump);
    plant.run(1800);
    plant.setSetpoint(pump, start * 1.15);
    plant.setSetpoint(step.thermostat.tag, plant.getSetpoint(step.thermostat.tag) + 4);
    plant.run(3600);
    plant.setSetpoint(pump, start * 0.8);
    plant.run(1800);
    return plant;
  }

  it.each(['nitration', 'hydrogenation', 'acetylation'])(
    'gives %s bit for bit the run the whole plant gives it',
    (stepId) => {
      const whole = run(stepId, false);
      const focused = run(stepId, true);
      const index = model.steps.findIndex((s) => s.id === stepId);
      const [a, b] = [whole.units[index]!, focused.units[index]!];
      expect(focused.time).toBe(whole.time);
      expect(Array.from(b.c)).toEqual(Array.from(a.c));
      expect(b.totals).toEqual(a.totals);
      expect(Array.from(b.analyser!.latest)).toEqual(Array.from(a.analyser!.latest));
      expect(b.analyser!.latestSampledAt).toBe(a.analyser!.latestSampledAt);
      expect([b.maxTemperature, b.pressure, b.activity]).toEqual([
        a.maxTemperature,
        a.pressure,
        a.activity,
      ]);
      // The steps after it stood still: their totals stayed at zero.
      focused.units.slice(index + 1).forEach((unit) => expect(unit.totals.massIn).toBe(0));
      expect(a.totals.productInSpec).toBeGreaterThan(0);
    },
  );

  it('steps the upstream units coarser only with a focus, and only by whole plant steps', () => {
    expect(() => new Plant(model, { dt: 2, upstreamDt: 60 })).toThrow(
      'upstreamDt needs a focus step',
    );
    expect(() => new Plant(model, { dt: 2, focus: 'acetylation', upstreamDt: 61 })).toThrow(
      'upstreamDt must be a whole multiple of dt (2 s), got 61',
    );
    const plant = new Plant(model, { dt: 2, focus: 'acetylation', upstreamDt: 60 });
    expect(plant.units.map((u) => u.dt)).toEqual([60, 60, 2]);
  });
});
