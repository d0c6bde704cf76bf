/**
 * The units pipac's devices and events use, by the symbol the recipe and the operator read
 * (°C, NmL/min), with their two machine-readable identities, in one table:
 * - UCUM (The Unified Code for Units of Measure, case-sensitive form "c/s"): what
 *   SensorReading.unit carries on the bus (proto/pipac/v1/sensor_reading.proto), so a
 *   historian or another plant system parses it without knowing pipac;
 * - the UNECE Recommendation 20 common code: what OPC UA's EUInformation names (Part 8
 *   §5.6.3.4; libs/opcua turns it into the unitId), where Rec 20 has one.
 */
export interface UnitIdentity {
  symbol: string;
  ucum: string;
  /** UNECE Rec 20 common code (Annex II/III), absent where Rec 20 has none. */
  uneceCode?: string;
  description: string;
}

const UNITS: Readonly<Record<string, Omit<UnitIdentity, 'symbol'>>> = {
  'mL/min': { ucum: 'mL/min', uneceCode: '41', description: 'millilitre per minute' },
  '°C': { ucum: 'Cel', uneceCode: 'CEL', description: 'degree Celsius' },
  bar: { ucum: 'bar', uneceCode: 'BAR', description: 'bar' },
  L: { ucum: 'L', uneceCode: 'LTR', description: 'litre' },
  'mol/L': { ucum: 'mol/L', uneceCode: 'C38', description: 'mole per litre' },
  // A conversion is a ratio: UCUM's unity, UNECE's "one" (synonym: unit).
  '1': { ucum: '1', uneceCode: 'C62', description: 'one (dimensionless ratio)' },
  // Gas flow at normal conditions (0 °C, 1.01325 bar): UCUM has no normal litre, so an
  // annotation (UCUM §12, curly braces) marks it; Rec 20 has normalised cubic metres (NM3,
  // Q39, Q40) but no normal millilitre per minute.
  'NmL/min': {
    ucum: 'mL{normal}/min',
    description: 'normal millilitre per minute (gas volume at 0 °C and 1.01325 bar, per minute)',
  },
};

/** A unit symbol the table does not hold: refused where it enters (start-up), not later. */
export class UnitError extends Error {
  readonly code = 'UNIT_UNKNOWN';
  readonly retriable = false;
}

/** The identities of a unit symbol; throws UnitError for one the table does not hold. */
export function unitIdentity(symbol: string): UnitIdentity {
  const unit = UNITS[symbol];
  if (!unit) {
    throw new UnitError(`unit "${symbol}" is not one of ${Object.keys(UNITS).join(', ')}`);
  }
  return { symbol, ...unit };
}

/** The UCUM code of a unit symbol (`°C` → `Cel`). */
export function ucumCode(symbol: string): string {
  return unitIdentity(symbol).ucum;
}
