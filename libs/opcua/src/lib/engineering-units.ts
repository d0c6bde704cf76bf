import { makeEUInformation } from 'node-opcua';
import { unitIdentity } from '@pipac/contracts';

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

/**
 * The EUInformation identity of a unit symbol (OPC UA Part 8 §5.6.3): from the units table in
 * libs/contracts (one table for the bus's UCUM codes and OPC UA's UNECE codes); node-opcua's
 * makeEUInformation turns the UNECE common code into the unitId as Part 8 §5.6.3.4 says. A
 * unit Rec 20 has no code for (NmL/min) is pipac's, with unitId −1 (§5.6.3: the defining
 * organisation has none). Throws UnitError for a symbol the table does not hold.
 */
export function engineeringUnit(symbol: string): EngineeringUnit {
  const unit = unitIdentity(symbol);
  if (unit.uneceCode === undefined) {
    return {
      symbol,
      namespaceUri: PIPAC_UNITS_NAMESPACE,
      unitId: -1,
      description: unit.description,
    };
  }
  const info = makeEUInformation(unit.uneceCode, symbol, unit.description);
  return {
    symbol,
    namespaceUri: UNECE_UNITS_NAMESPACE,
    unitId: info.unitId,
    commonCode: unit.uneceCode,
    description: unit.description,
  };
}
