import { UnitError, ucumCode } from './ucum';

describe('UCUM codes of the devices units', () => {
  it.each([
    ['°C', 'Cel'],
    ['mL/min', 'mL/min'],
    ['NmL/min', 'mL{normal}/min'],
    ['mol/L', 'mol/L'],
    ['bar', 'bar'],
    ['L', 'L'],
    ['1', '1'],
    ['', '1'],
  ])('%s → %s', (unit, code) => expect(ucumCode(unit)).toBe(code));

  it('refuses a unit it does not know, naming it, rather than publishing a guess', () => {
    expect(() => ucumCode('degF')).toThrow(UnitError);
    expect(() => ucumCode('degF')).toThrow(/unit "degF" has no UCUM code/);
    // Case matters in UCUM: "Cel" is a code, not a display unit of ours.
    expect(() => ucumCode('cel')).toThrow(UnitError);
  });
});
