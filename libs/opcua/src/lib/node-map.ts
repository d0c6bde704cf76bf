import Ajv from 'ajv';

/** Where one tag lives on a device's OPC UA server. */
export interface NodeMapEntry {
  /** Node id within `namespaceUri`, in OPC UA string form without the namespace: `s=…`, `i=…`. */
  nodeId: string;
  /** Engineering unit the value is in, by its symbol (what readings carry: 'mL/min', '°C'). */
  unit: string;
  /**
   * The same unit as the device's EngineeringUnits name it (OPC UA Part 8 §5.6.3): the UNECE
   * namespace and common code as unitId, or pipac's namespace and −1 where Rec 20 has none.
   * @default none (informational: the adapter publishes `unit`)
   */
  engineeringUnits?: { namespaceUri: string; unitId: number };
}

export interface SetpointNodeMapEntry extends NodeMapEntry {
  /**
   * Limits the adapter enforces on top of the device's own engineering range (EURange,
   * read from the device at connect): the narrower of both applies. @default the device's
   */
  range?: { low: number; high: number };
}

/**
 * How a device adapter finds a device's values: one map per device (vendor profile), from
 * configuration. Node ids are resolved against the namespace URI at connect, so a server
 * that renumbers its namespaces still maps correctly.
 */
export interface NodeMap {
  device: string;
  endpointUrl: string;
  namespaceUri: string;
  /** Tags published as sensor readings. */
  readings: Record<string, NodeMapEntry>;
  /** Tags setpoint commands may write (read back from the same node). */
  setpoints: Record<string, SetpointNodeMapEntry>;
}

const entry = {
  type: 'object',
  required: ['nodeId', 'unit'],
  additionalProperties: false,
  properties: {
    nodeId: { type: 'string', pattern: '^(s|i|g|b)=.+' },
    unit: { type: 'string' },
    engineeringUnits: {
      type: 'object',
      required: ['namespaceUri', 'unitId'],
      additionalProperties: false,
      properties: { namespaceUri: { type: 'string', minLength: 1 }, unitId: { type: 'integer' } },
    },
    range: {
      type: 'object',
      required: ['low', 'high'],
      additionalProperties: false,
      properties: { low: { type: 'number' }, high: { type: 'number' } },
    },
  },
} as const;

const NODE_MAP_SCHEMA = {
  type: 'object',
  required: ['device', 'endpointUrl', 'namespaceUri', 'readings', 'setpoints'],
  additionalProperties: false,
  properties: {
    device: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    endpointUrl: { type: 'string', pattern: '^opc\\.tcp://' },
    namespaceUri: { type: 'string', minLength: 1 },
    readings: { type: 'object', additionalProperties: entry },
    setpoints: { type: 'object', additionalProperties: entry },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<NodeMap>(NODE_MAP_SCHEMA);

export class NodeMapError extends Error {
  readonly code = 'NODE_MAP_INVALID';
  readonly retriable = false;
}

/** Checks a node map from configuration; errors name the field (`/setpoints/P-101/nodeId`). */
export function parseNodeMap(document: unknown, source = 'node map'): NodeMap {
  if (!validate(document)) {
    const reasons = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''}`,
    );
    throw new NodeMapError(`${source}: ${reasons.join('; ')}`);
  }
  const map = document;
  for (const [tag, setpoint] of Object.entries(map.setpoints)) {
    if (setpoint.range && !(setpoint.range.low < setpoint.range.high)) {
      throw new NodeMapError(`${source}: /setpoints/${tag}/range low must be below high`);
    }
  }
  return map;
}
