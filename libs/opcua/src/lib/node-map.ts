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

/** Where a LADS state machine reports its state: the node of its `CurrentState` (a LocalizedText). */
export interface StateNodeMapEntry {
  /** Node id within `namespaceUri`, as for readings. */
  nodeId: string;
}

/**
 * Where the device's LADS state machines are (OPC 30500-1 §7.1.1: every LADSDeviceType has a
 * DeviceState, a LADSDeviceStateMachineType, §7.1.2; every functional unit a
 * FunctionalUnitState): the `CurrentState` variable of each (OPC 10000-16 §4.4.6).
 */
export interface StateNodeMap {
  /** The device's `DeviceState/CurrentState`: Initialization, Operate, Sleep or Shutdown. */
  device: StateNodeMapEntry;
  /**
   * Each functional unit's `FunctionalUnitState/CurrentState` (Running, Aborted …), by the
   * unit's name, in the order the adapter reports them. @default none (the device's state only)
   */
  units?: Record<string, StateNodeMapEntry>;
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
  /**
   * The device's LADS state, which the adapter bridges to the `state` topic.
   * @default none (the adapter publishes the connection and mode with an empty state)
   */
  state?: StateNodeMap;
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

const stateEntry = {
  type: 'object',
  required: ['nodeId'],
  additionalProperties: false,
  properties: { nodeId: { type: 'string', pattern: '^(s|i|g|b)=.+' } },
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
    state: {
      type: 'object',
      required: ['device'],
      additionalProperties: false,
      properties: {
        device: stateEntry,
        units: {
          type: 'object',
          propertyNames: { minLength: 1 },
          additionalProperties: stateEntry,
        },
      },
    },
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
