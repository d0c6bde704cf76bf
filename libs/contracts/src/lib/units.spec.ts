import { UnitError, ucumCode, unitIdentity } from './units';

describe('the units table', () => {
  it.each([
    ['°C', 'Cel'],
    ['mL/min', 'mL/min'],
    ['NmL/min', 'mL{normal}/min'],
    ['mol/L', 'mol/L'],
    ['bar', 'bar'],
    ['L', 'L'],
    ['1', '1'],
  ])('%s is UCUM %s on the bus', (unit, code) => expect(ucumCode(unit)).toBe(code));

  it('names the UNECE common code where Rec 20 has one, none for a normal millilitre', () => {
    expect(unitIdentity('°C').uneceCode).toBe('CEL');
    expect(unitIdentity('mL/min').uneceCode).toBe('41');
    expect(unitIdentity('NmL/min').uneceCode).toBeUndefined();
  });

  it('refuses a unit it does not know, naming it, rather than publishing a guess', () => {
    expect(() => ucumCode('degF')).toThrow(UnitError);
    expect(() => ucumCode('degF')).toThrow(/unit "degF" is not one of/);
    // Case matters in UCUM: "Cel" is a code, not a symbol of ours.
    expect(() => ucumCode('Cel')).toThrow(UnitError);
    expect(() => ucumCode('')).toThrow(UnitError);
  });
});
