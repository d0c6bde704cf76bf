/**
 * SensorReading.unit is a UCUM code (The Unified Code for Units of Measure, case-sensitive
 * form "c/s"), as proto/pipac/v1/sensor_reading.proto says, so a historian or another plant
 * system parses it without knowing pipac. The devices and the recipe speak in display symbols
 * (°C, NmL/min); this is the one translation, done where a reading goes onto the bus.
 */
const UCUM_CODES: Readonly<Record<string, string>> = {
  '°C': 'Cel',
  K: 'K',
  bar: 'bar',
  'mL/min': 'mL/min',
  // A gas flow at normal conditions (0 °C, 1.01325 bar): UCUM has no "normal litre"; an
  // annotation (UCUM §12, curly braces) marks it and leaves the unit mL/min.
  'NmL/min': 'mL{normal}/min',
  mL: 'mL',
  L: 'L',
  g: 'g',
  'mol/L': 'mol/L',
  // Dimensionless (conversion, yield 0..1): UCUM's unity.
  '1': '1',
  '': '1',
  '%': '%',
  s: 's',
  min: 'min',
  h: 'h',
};

/** Thrown for a unit with no UCUM code here: the adapter refuses it at start-up, not later. */
export class UnitError extends Error {
  readonly code = 'UNIT_UNKNOWN';
  readonly retriable = false;
}

/** The UCUM code of a display unit (`°C` → `Cel`). */
export function ucumCode(unit: string): string {
  const code = UCUM_CODES[unit];
  if (code === undefined) {
    throw new UnitError(
      `unit "${unit}" has no UCUM code here (known: ${Object.keys(UCUM_CODES)
        .filter(Boolean)
        .join(', ')})`,
    );
  }
  return code;
}
