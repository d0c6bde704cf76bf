import { makeEUInformation, standardUnits, type EUInformation } from 'node-opcua';

/** OPC UA Part 8 §5.6.3.4: the namespace of units identified by their UNECE Rec 20 common code. */
export const UNECE_UNITS_NAMESPACE = 'http://www.opcfoundation.org/UA/units/un/cefact';
/** pipac's own units, for the few that UNECE Rec 20 has no common code for. */
export const PIPAC_UNITS_NAMESPACE = 'urn:pipac:units';

/**
 * A unit as OPC UA EUInformation carries it (Part 8 §5.6.3): the organisation that defines it,
 * its id there, and its symbol. `unit` strings (the node map's, the Kafka payloads') stay the
 * symbols pipac has always used; this is the machine-readable identity beside them.
 */
export interface EngineeringUnit {
  /** The symbol, as readings carry it (e.g. 'mL/min', '°C'). */
  symbol: string;
  namespaceUri: string;
  /** The UNECE common code as an Int32 (Part 8 §5.6.3.4), −1 where the unit has none. */
  unitId: number;
  /** The UNECE Rec 20 common code, where there is one (e.g. '41', 'CEL'). */
  commonCode?: string;
  description: string;
}

function unece(symbol: string, info: EUInformation, commonCode: string): EngineeringUnit {
  return {
    symbol,
    namespaceUri: UNECE_UNITS_NAMESPACE,
    unitId: info.unitId,
    commonCode,
    description: info.description.text ?? symbol,
  };
}

/**
 * Every unit the device models use, by symbol. Common codes from UNECE Recommendation 20
 * (Annex II/III); node-opcua's standardUnits where it has them, makeEUInformation (which
 * turns the common code into the unitId as Part 8 §5.6.3.4 says) for the others.
 */
const UNITS: Record<string, EngineeringUnit> = {
  'mL/min': unece('mL/min', makeEUInformation('41', 'mL/min', 'millilitre per minute'), '41'),
  '°C': unece('°C', standardUnits.degree_celsius, 'CEL'),
  bar: unece('bar', standardUnits.bar, 'BAR'),
  L: unece('L', makeEUInformation('LTR', 'L', 'litre'), 'LTR'),
  'mol/L': unece('mol/L', makeEUInformation('C38', 'mol/L', 'mole per litre'), 'C38'),
  // A conversion is a ratio: UNECE's "one" (synonym: unit), symbol 1.
  '1': unece('1', makeEUInformation('C62', '1', 'one (dimensionless ratio)'), 'C62'),
  // Gas flow at normal conditions: Rec 20 has normalised cubic metres (NM3, Q39, Q40) but no
  // normal millilitre per minute, so this one is pipac's (Part 8 §5.6.3: unitId −1 when the
  // defining organisation has no code).
  'NmL/min': {
    symbol: 'NmL/min',
    namespaceUri: PIPAC_UNITS_NAMESPACE,
    unitId: -1,
    description: 'normal millilitre per minute (gas volume at 0 °C and 1.01325 bar, per minute)',
  },
};

export class UnknownUnitError extends Error {
  readonly code = 'UNIT_UNKNOWN';
  readonly retriable = false;
}

/** The EUInformation identity of a unit symbol; throws for a symbol the models do not use. */
export function engineeringUnit(symbol: string): EngineeringUnit {
  const unit = UNITS[symbol];
  if (!unit) {
    throw new UnknownUnitError(
      `unit "${symbol}" has no EUInformation; known: ${Object.keys(UNITS).join(', ')}`,
    );
  }
  return unit;
}
