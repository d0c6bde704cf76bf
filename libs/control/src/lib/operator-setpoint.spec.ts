import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { OperatorSetpointError, OperatorSetpoints, setpointTagOf } from './operator-setpoint';
import { StepSpace } from './step/step-space';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')));
const setpoints = new OperatorSetpoints(model);

function refusal(request: Parameters<OperatorSetpoints['check']>[0]): OperatorSetpointError {
  try {
    setpoints.check(request);
  } catch (error) {
    if (error instanceof OperatorSetpointError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(request)}`);
}

describe('OperatorSetpoints', () => {
  it("lists each step's pumps, jacket and back-pressure with the shield's engineering ranges", () => {
    for (const step of model.steps) {
      const listed = setpoints.of(step.id)!;
      expect(listed.map((s) => s.tag)).toEqual([
        ...step.inlets.map((i) => i.pump),
        step.thermostat.tag,
        step.backPressure.tag,
      ]);
      // The operator's limits are the shield's engineering limits, never the agent's.
      for (const limit of new StepSpace(model, step.id).shieldLimits()) {
        expect(listed.find((s) => s.tag === limit.tag)?.engineering).toEqual(limit.engineering);
      }
    }
    expect(setpoints.of('cooking')).toBeUndefined();
  });

  it('accepts a value inside the engineering range but outside the agent range, by tag or by its .SP reading', () => {
    // P-101's agent range is 3..9 mL/min; its engineering range 0..12.
    const checked = setpoints.check({
      step: 'nitration',
      tag: 'P-101',
      value: 1.5,
      unit: 'mL/min',
    });
    expect([checked.setpoint.tag, checked.setpoint.kind, checked.value]).toEqual([
      'P-101',
      'pump',
      1.5,
    ]);
    expect(
      setpoints.check({ step: 'nitration', tag: 'P-101.SP', value: 0, unit: 'mL/min' }).setpoint
        .tag,
    ).toBe('P-101');
    expect(
      setpoints.check({ step: 'nitration', tag: 'PCV-101', value: 6, unit: 'bar' }).setpoint.kind,
    ).toBe('back-pressure');
    expect(
      Object.is(
        setpoints.check({ step: 'nitration', tag: 'P-101', value: -0, unit: 'mL/min' }).value,
        0,
      ),
    ).toBe(true);
  });

  it.each([
    [{ step: 'cooking', tag: 'P-101', value: 5, unit: 'mL/min' }, 'UNKNOWN_STEP', 'step'],
    [
      { step: 'nitration', tag: 'P-201', value: 5, unit: 'mL/min' },
      'SETPOINT_OF_ANOTHER_STEP',
      'tag',
    ],
    [{ step: 'nitration', tag: 'P-999', value: 5, unit: 'mL/min' }, 'NOT_A_SETPOINT', 'tag'],
    [{ step: 'nitration', tag: 'P-101.PV', value: 5, unit: 'mL/min' }, 'NOT_A_SETPOINT', 'tag'],
    [{ step: 'nitration', tag: 'P-101', value: 5, unit: 'L/h' }, 'WRONG_UNIT', 'unit'],
    [{ step: 'nitration', tag: 'P-101', value: Number.NaN, unit: 'mL/min' }, 'NOT_FINITE', 'value'],
    [{ step: 'nitration', tag: 'P-101', value: Infinity, unit: 'mL/min' }, 'NOT_FINITE', 'value'],
    [
      { step: 'nitration', tag: 'P-101', value: 1e308, unit: 'mL/min' },
      'ENGINEERING_LIMIT',
      'value',
    ],
    [
      { step: 'nitration', tag: 'P-101', value: 12.000001, unit: 'mL/min' },
      'ENGINEERING_LIMIT',
      'value',
    ],
    [
      { step: 'nitration', tag: 'P-101', value: -0.1, unit: 'mL/min' },
      'ENGINEERING_LIMIT',
      'value',
    ],
    [{ step: 'nitration', tag: 'TC-101', value: 51, unit: '°C' }, 'ENGINEERING_LIMIT', 'value'],
  ])('refuses %j: %s on %s', (request, code, field) => {
    const error = refusal(request);
    expect(error).toMatchObject({ code, field, retriable: false });
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('names the range and the step in its refusals', () => {
    expect(refusal({ step: 'nitration', tag: 'P-101', value: 13, unit: 'mL/min' }).message).toBe(
      '13 mL/min is outside the engineering range of P-101, 0..12 mL/min',
    );
    expect(refusal({ step: 'nitration', tag: 'P-201.SP', value: 5, unit: 'mL/min' }).message).toBe(
      'P-201 is a setpoint of step hydrogenation, not of nitration',
    );
  });

  it('finds the step of a setpoint tag, and strips only the .SP suffix', () => {
    expect(setpoints.find('MFC-201.SP')).toMatchObject({ step: 'hydrogenation', unit: 'NmL/min' });
    expect(setpoints.find('R-nitration.TI-hot')).toBeUndefined();
    expect(setpointTagOf('P-101.SP')).toBe('P-101');
    expect(setpointTagOf('P-101.PV')).toBe('P-101.PV');
  });
});
