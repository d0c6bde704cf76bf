import {
  DataType,
  StatusCodes,
  type AddressSpace,
  type BaseNode,
  type Namespace,
  type UAObject,
  type UAObjectType,
  type UAStateMachineEx,
  type UAVariable,
  promoteToStateMachine,
} from 'node-opcua';
import type { DeviceDescription, DeviceFunction } from './device-model';
import { engineeringUnit, type EngineeringUnit } from './engineering-units';
import { OpcuaError } from './opcua.error';

export const LADS_NAMESPACE = 'http://opcfoundation.org/UA/LADS/';
export const DI_NAMESPACE = 'http://opcfoundation.org/UA/DI/';
export const MACHINERY_NAMESPACE = 'http://opcfoundation.org/UA/Machinery/';
export const ADI_NAMESPACE = 'http://opcfoundation.org/UA/ADI/';

/** A variable the server serves for one tag. */
export interface TagNode {
  tag: string;
  device: string;
  variable: UAVariable;
  /** For the TargetValue of a control function: the tag setpoint commands name (P-101). */
  setpointTag?: string;
  /** The unit's symbol (what readings carry), and its EUInformation identity beside it. */
  unit: string;
  engineeringUnit: EngineeringUnit;
  range: { low: number; high: number };
  /**
   * The sensor function's RawValue (LADS), which follows the SensorValue: a simulated
   * transmitter has no raw signal of its own, so the raw value is the measured one.
   */
  raw?: UAVariable;
}

function objectType(addressSpace: AddressSpace, name: string, ns: number): UAObjectType {
  const type = addressSpace.findObjectType(name, ns);
  if (!type)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      `OPC UA LADS type ${name} is not loaded (the LADS nodeset is needed)`,
    );
  return type;
}

/** LADS FunctionalUnitStateMachine states (OPC 30500, derived from the ISA-88 program states). */
export type FunctionalUnitState =
  'Stopped' | 'Running' | 'Stopping' | 'Aborting' | 'Aborted' | 'Clearing';
/** LADS device states. */
export type LadsDeviceState = 'Initialization' | 'Operate' | 'Sleep' | 'Shutdown';

/** What addLadsDevices made: a variable per tag and the state machines. */
export interface LadsDevices {
  tags: Map<string, TagNode>;
  /** By `<device>/<functional unit>`. */
  unitStates: Map<string, UAStateMachineEx>;
  /** By device id. */
  deviceStates: Map<string, UAStateMachineEx>;
}

/**
 * Adds devices to a server's address space as LADS devices (OPC 30500) under DeviceSet (DI):
 * LADSDevice → FunctionalUnitSet → FunctionalUnit → FunctionSet → AnalogControlFunction
 * (TargetValue, CurrentValue, ControlFunctionState) or AnalogScalarSensorFunction
 * (SensorValue, RawValue). Every value is an AnalogUnitRange item with EURange and
 * EngineeringUnits (UNECE codes, OPC UA Part 8 §5.6.3) under a string node id made of its path
 * (`<device>.<unit>.<function>-<variable>`), so a tag keeps its id whatever else the recipe
 * holds; TargetValues also carry an InstrumentRange (Part 8 §5.3.2) equal to the engineering
 * range, so the server itself refuses a write outside it with BadOutOfRange, as a real device
 * does. Every function is enabled, control functions Running; devices start in the LADS state
 * Operate and their functional units in Running. Each device is a machine in the Machinery
 * Machines folder (OPC 40001-1 §8.1), and each analyser is also an ADI analyser device
 * (OPC 10020) whose ParameterSet holds its measured values (see docs/devices.md).
 */
export function addLadsDevices(
  addressSpace: AddressSpace,
  namespace: Namespace,
  devices: DeviceDescription[],
  clock: () => Date = () => new Date(),
): LadsDevices {
  const model = loadedModels(addressSpace);
  const context: ValueContext = { namespace, lads: model.ns.lads, clock };
  const made: LadsDevices = { tags: new Map(), unitStates: new Map(), deviceStates: new Map() };
  for (const device of devices) {
    addDevice(model, context, device, made);
    if (device.functionalUnits.some((u) => u.kind === 'analyser')) {
      addAnalyserDevice(addressSpace, namespace, model.deviceSet, device, made.tags, model.ns);
    }
  }
  return made;
}

/** The companion models' namespaces, types and folders the devices are made of and put in. */
interface LoadedModels {
  ns: { lads: number; di: number; machinery: number; adi: number };
  deviceType: UAObjectType;
  unitType: UAObjectType;
  controlType: UAObjectType;
  sensorType: UAObjectType;
  deviceSet: BaseNode;
  machines: BaseNode;
}

function loadedModels(addressSpace: AddressSpace): LoadedModels {
  const lads = addressSpace.getNamespaceIndex(LADS_NAMESPACE);
  const di = addressSpace.getNamespaceIndex(DI_NAMESPACE);
  const machinery = addressSpace.getNamespaceIndex(MACHINERY_NAMESPACE);
  const adi = addressSpace.getNamespaceIndex(ADI_NAMESPACE);
  if (lads < 0 || di < 0 || machinery < 0 || adi < 0) {
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      'the DI, Machinery, LADS and ADI nodesets must be loaded',
    );
  }
  const deviceType = objectType(addressSpace, 'LADSDeviceType', lads);
  const unitType = objectType(addressSpace, 'FunctionalUnitType', lads);
  const controlType = objectType(addressSpace, 'AnalogControlFunctionType', lads);
  const sensorType = objectType(addressSpace, 'AnalogScalarSensorFunctionType', lads);
  const deviceSet = addressSpace.rootFolder.objects.getFolderElementByName('DeviceSet', di);
  if (!deviceSet)
    throw new OpcuaError('ADDRESS_SPACE_INCOMPLETE', 'DI DeviceSet not found in the address space');
  // OPC 40001-1 §8.1: every machine of the server is referenced from Objects/Machines.
  const machines = addressSpace.rootFolder.objects.getFolderElementByName('Machines', machinery);
  if (!machines)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      'Machinery Machines folder not found in the address space',
    );
  const ns = { lads, di, machinery, adi };
  return { ns, deviceType, unitType, controlType, sensorType, deviceSet, machines };
}

/** One LADS device, a machine in Machines, in the LADS state Operate, with its functional units. */
function addDevice(
  model: LoadedModels,
  context: ValueContext,
  device: DeviceDescription,
  made: LadsDevices,
): void {
  const { namespace, lads } = context;
  const deviceNode = model.deviceType.instantiate({
    browseName: device.id,
    nodeId: `s=${device.id}`,
    componentOf: model.deviceSet,
    namespace,
    optionals: ['Manufacturer', 'Model', 'SerialNumber'],
  });
  setIdentification(deviceNode, device);
  model.machines.addReference({ referenceType: 'Organizes', nodeId: deviceNode.nodeId });
  const deviceState = promoteToStateMachine(component(deviceNode, 'DeviceState', lads));
  deviceState.setState('Operate' satisfies LadsDeviceState);
  made.deviceStates.set(device.id, deviceState);
  const unitSet = component(deviceNode, 'FunctionalUnitSet', lads);
  for (const unit of device.functionalUnits) {
    const unitNode = model.unitType.instantiate({
      browseName: unit.name,
      nodeId: `s=${device.id}.${unit.name}`,
      componentOf: unitSet,
      namespace,
      optionals: ['FunctionSet'],
    });
    const unitState = promoteToStateMachine(component(unitNode, 'FunctionalUnitState', lads));
    unitState.setState('Running' satisfies FunctionalUnitState);
    made.unitStates.set(`${device.id}/${unit.name}`, unitState);
    const functionSet = component(unitNode, 'FunctionSet', lads);
    for (const fn of unit.functions) {
      const fnNode = addFunction(model, context, functionSet, `${device.id}.${unit.name}`, fn);
      for (const node of functionVariables(fnNode, fn, context, device.id)) {
        if (made.tags.has(node.tag))
          throw new OpcuaError('DEVICE_MODEL_INVALID', `tag ${node.tag} is served twice`);
        made.tags.set(node.tag, node);
      }
    }
  }
}

/** A control or sensor function of a functional unit, enabled; a control function Running. */
function addFunction(
  model: LoadedModels,
  { namespace, lads }: ValueContext,
  functionSet: UAObject,
  unitPath: string,
  fn: DeviceFunction,
): UAObject {
  const fnNode =
    fn.kind === 'control'
      ? model.controlType.instantiate({
          browseName: fn.name,
          nodeId: `s=${unitPath}.${fn.name}`,
          componentOf: functionSet,
          namespace,
          // OPC 30500 §7.6: the function's state machine lists its states and transitions;
          // OPC UA Part 8 §5.3.2: InstrumentRange is the standard (namespace 0) property.
          optionals: [
            'ControlFunctionState.AvailableStates',
            'ControlFunctionState.AvailableTransitions',
            'TargetValue.InstrumentRange',
          ],
        })
      : model.sensorType.instantiate({
          browseName: fn.name,
          nodeId: `s=${unitPath}.${fn.name}`,
          componentOf: functionSet,
          namespace,
        });
  // OPC 30500 §7.3: IsEnabled says whether the function can be executed; it always can.
  fnNode.getPropertyByName('IsEnabled', lads)?.setValueFromSource({
    dataType: DataType.Boolean,
    value: true,
  });
  if (fn.kind === 'control') {
    const state = promoteToStateMachine(component(fnNode, 'ControlFunctionState', lads));
    // The device controls to its target from the start (the plant runs at its setpoints).
    state.setState('Running' satisfies FunctionalUnitState);
  }
  return fnNode;
}

/**
 * The analyser as ADI (OPC 10020) sees it: an NMRDeviceType or SpectrometerDeviceType (both
 * AnalyserDeviceType) `<id>.ADI` beside the LADS device, with its identification and, in its
 * ParameterSet (DI), the measured values, the same nodes as the LADS SensorValues (one value,
 * two views). ADI's channel, stream and accessory-slot structure is not modelled: a simulated
 * analyser has one channel and one stream, and its results are already the values.
 */
function addAnalyserDevice(
  addressSpace: AddressSpace,
  namespace: Namespace,
  deviceSet: BaseNode,
  device: DeviceDescription,
  tags: Map<string, TagNode>,
  ns: { di: number; adi: number },
): void {
  const typeName = device.profile === 'bruker-nmr' ? 'NMRDeviceType' : 'SpectrometerDeviceType';
  const type = addressSpace.findObjectType(typeName, ns.adi);
  if (!type)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      `ADI type ${typeName} is not loaded (the ADI nodeset is needed)`,
    );
  const adiNode = type.instantiate({
    browseName: `${device.id}.ADI`,
    nodeId: `s=${device.id}.ADI`,
    componentOf: deviceSet,
    namespace,
    optionals: ['ParameterSet', 'Manufacturer', 'Model', 'SerialNumber'],
  });
  setIdentification(adiNode, device);
  const parameters = adiNode.getComponentByName('ParameterSet', ns.di);
  if (!parameters)
    throw new OpcuaError('ADDRESS_SPACE_INCOMPLETE', `${device.id}.ADI has no ParameterSet`);
  for (const node of tags.values()) {
    if (node.device !== device.id) continue;
    parameters.addReference({ referenceType: 'Organizes', nodeId: node.variable.nodeId });
  }
}

function component(node: UAObject, name: string, ns: number): UAObject {
  const child = node.getComponentByName(name, ns);
  if (!child)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      `${node.browseName.toString()} has no component ${name}`,
    );
  return child as UAObject;
}

function setIdentification(deviceNode: UAObject, device: DeviceDescription): void {
  for (const [name, text] of [
    ['Manufacturer', device.manufacturer],
    ['Model', device.model],
    ['SerialNumber', device.serialNumber],
  ] as const) {
    const property = deviceNode.getPropertyByName(name);
    if (!property) continue;
    property.setValueFromSource({
      dataType:
        property.dataType.value === DataType.String ? DataType.String : DataType.LocalizedText,
      value: property.dataType.value === DataType.String ? text : { text },
    });
  }
}

interface ValueContext {
  namespace: Namespace;
  lads: number;
  clock: () => Date;
}

function functionVariables(
  fnNode: UAObject,
  fn: DeviceFunction,
  context: ValueContext,
  device: string,
): TagNode[] {
  const { namespace, lads } = context;
  const addressSpace = namespace.addressSpace;
  const unit = engineeringUnit(fn.unit);
  const range = (): ExtensionObjectVariant => ({
    dataType: DataType.ExtensionObject,
    value: addressSpace.constructExtensionObject(addressSpace.findDataType('Range')!, {
      low: fn.range.low,
      high: fn.range.high,
    }),
  });
  const describe = (variable: UAVariable): UAVariable => {
    variable.getPropertyByName('EURange')?.setValueFromSource(range());
    // OPC UA Part 8 §5.6.3: namespaceUri, unitId (UNECE common code), displayName (the symbol).
    variable.getPropertyByName('EngineeringUnits')?.setValueFromSource({
      dataType: DataType.ExtensionObject,
      value: addressSpace.constructExtensionObject(addressSpace.findDataType('EUInformation')!, {
        namespaceUri: unit.namespaceUri,
        unitId: unit.unitId,
        displayName: { text: unit.symbol },
        description: { text: unit.description },
      }),
    });
    return variable;
  };
  const analog = (name: string): UAVariable => {
    const variable = fnNode.getComponentByName(name, lads) as UAVariable | null;
    if (!variable) throw new OpcuaError('ADDRESS_SPACE_INCOMPLETE', `${fn.name} has no ${name}`);
    return describe(stableId(variable, fnNode, lads, namespace));
  };
  const node = (tag: string, variable: UAVariable, extra: Partial<TagNode> = {}): TagNode => ({
    tag,
    device,
    variable,
    ...extra,
    unit: fn.unit,
    engineeringUnit: unit,
    range: fn.range,
  });
  const at = context.clock();
  if (fn.kind === 'sensor') {
    const value = analog('SensorValue');
    const raw = analog('RawValue');
    for (const v of [value, raw]) {
      v.setValueFromSource(
        { dataType: DataType.Double, value: 0 },
        StatusCodes.UncertainInitialValue,
        at,
      );
    }
    return [node(fn.tag, value, { raw })];
  }
  const target = analog('TargetValue');
  const current = analog('CurrentValue');
  // The device refuses a target outside its range (see adjustDataValueStatusCode in node-opcua).
  const instrumentRange = target.getPropertyByName('InstrumentRange', 0);
  if (!instrumentRange)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      `${fn.name}.TargetValue has no InstrumentRange`,
    );
  instrumentRange.setValueFromSource(range());
  target.setValueFromSource({ dataType: DataType.Double, value: fn.initial }, StatusCodes.Good, at);
  current.setValueFromSource(
    { dataType: DataType.Double, value: fn.initial },
    StatusCodes.Good,
    at,
  );
  return [
    node(fn.targetTag, target, { setpointTag: fn.setpointTag }),
    node(fn.currentTag, current),
  ];
}

type ExtensionObjectVariant = { dataType: DataType.ExtensionObject; value: unknown };

/**
 * Gives a function's value variable the string node id of its path (`<function id>-<name>`),
 * as node-opcua does for most children of a string-id parent. The LADS sensor values are the
 * exception: they also hang in the type's functional groups, so node-opcua numbers them in
 * creation order, and every tag after a device added or removed in the recipe would get another
 * id. Such a variable is made again from its type (AnalogUnitRangeType) under the stable id.
 */
function stableId(
  variable: UAVariable,
  fnNode: UAObject,
  lads: number,
  namespace: Namespace,
): UAVariable {
  const wanted = `${fnNode.nodeId.value as string}-${variable.browseName.name ?? ''}`;
  if (variable.nodeId.value === wanted) return variable;
  const type = variable.typeDefinitionObj;
  const browseName = variable.browseName.name ?? '';
  const dataType = variable.dataType;
  namespace.addressSpace.deleteNode(variable);
  return type.instantiate({
    browseName: { name: browseName, namespaceIndex: lads },
    nodeId: `s=${wanted}`,
    componentOf: fnNode,
    namespace,
    dataType,
  });
}
