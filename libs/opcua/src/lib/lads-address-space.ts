import {
  DataType,
  StatusCodes,
  type AddressSpace,
  type Namespace,
  type UAObject,
  type UAObjectType,
  type UAStateMachineEx,
  type UAVariable,
  promoteToStateMachine,
} from 'node-opcua';
import type { DeviceDescription, DeviceFunction } from './device-model';

export const LADS_NAMESPACE = 'http://opcfoundation.org/UA/LADS/';
export const DI_NAMESPACE = 'http://opcfoundation.org/UA/DI/';

/** A variable the server serves for one tag. */
export interface TagNode {
  tag: string;
  device: string;
  variable: UAVariable;
  /** For the TargetValue of a control function: the tag setpoint commands name (P-101). */
  setpointTag?: string;
  unit: string;
  range: { low: number; high: number };
}

function objectType(addressSpace: AddressSpace, name: string, ns: number): UAObjectType {
  const type = addressSpace.findObjectType(name, ns);
  if (!type) throw new Error(`OPC UA LADS type ${name} is not loaded (the LADS nodeset is needed)`);
  return type;
}

/**
 * Adds devices to a server's address space as LADS devices (OPC 30500) under DeviceSet (DI):
 * LADSDevice → FunctionalUnitSet → FunctionalUnit → FunctionSet → AnalogControlFunction
 * (TargetValue, CurrentValue) or AnalogScalarSensorFunction (SensorValue). Every value is an
 * AnalogUnitRange item with EURange and EngineeringUnits; TargetValues also carry an
 * InstrumentRange equal to the engineering range, so the server itself refuses a write
 * outside it with BadOutOfRange, as a real device does. Devices start in the LADS state
 * Operate and their functional units in Running.
 */
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

export function addLadsDevices(
  addressSpace: AddressSpace,
  namespace: Namespace,
  devices: DeviceDescription[],
): LadsDevices {
  const lads = addressSpace.getNamespaceIndex(LADS_NAMESPACE);
  const di = addressSpace.getNamespaceIndex(DI_NAMESPACE);
  if (lads < 0 || di < 0) throw new Error('the DI and LADS nodesets must be loaded');
  const deviceType = objectType(addressSpace, 'LADSDeviceType', lads);
  const unitType = objectType(addressSpace, 'FunctionalUnitType', lads);
  const controlType = objectType(addressSpace, 'AnalogControlFunctionType', lads);
  const sensorType = objectType(addressSpace, 'AnalogScalarSensorFunctionType', lads);
  const deviceSet = addressSpace.rootFolder.objects.getFolderElementByName('DeviceSet', di);
  if (!deviceSet) throw new Error('DI DeviceSet not found in the address space');

  const nodes = new Map<string, TagNode>();
  const unitStates = new Map<string, UAStateMachineEx>();
  const deviceStates = new Map<string, UAStateMachineEx>();
  for (const device of devices) {
    const deviceNode = deviceType.instantiate({
      browseName: device.id,
      nodeId: `s=${device.id}`,
      componentOf: deviceSet,
      namespace,
      optionals: ['Manufacturer', 'Model', 'SerialNumber'],
    });
    setIdentification(deviceNode, device);
    const deviceState = promoteToStateMachine(component(deviceNode, 'DeviceState', lads));
    deviceState.setState('Operate' satisfies LadsDeviceState);
    deviceStates.set(device.id, deviceState);
    const unitSet = component(deviceNode, 'FunctionalUnitSet', lads);
    for (const unit of device.functionalUnits) {
      const unitNode = unitType.instantiate({
        browseName: unit.name,
        nodeId: `s=${device.id}.${unit.name}`,
        componentOf: unitSet,
        namespace,
        optionals: ['FunctionSet'],
      });
      const unitState = promoteToStateMachine(component(unitNode, 'FunctionalUnitState', lads));
      unitState.setState('Running' satisfies FunctionalUnitState);
      unitStates.set(`${device.id}/${unit.name}`, unitState);
      const functionSet = component(unitNode, 'FunctionSet', lads);
      for (const fn of unit.functions) {
        const type = fn.kind === 'control' ? controlType : sensorType;
        const fnNode = type.instantiate({
          browseName: fn.name,
          nodeId: `s=${device.id}.${unit.name}.${fn.name}`,
          componentOf: functionSet,
          namespace,
        });
        for (const node of functionVariables(fnNode, fn, lads, namespace, device.id)) {
          if (nodes.has(node.tag)) throw new Error(`tag ${node.tag} is served twice`);
          nodes.set(node.tag, node);
        }
      }
    }
  }
  return { tags: nodes, unitStates, deviceStates };
}

function component(node: UAObject, name: string, ns: number): UAObject {
  const child = node.getComponentByName(name, ns);
  if (!child) throw new Error(`${node.browseName.toString()} has no component ${name}`);
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

function functionVariables(
  fnNode: UAObject,
  fn: DeviceFunction,
  lads: number,
  namespace: Namespace,
  device: string,
): TagNode[] {
  const analog = (name: string): UAVariable => {
    const variable = fnNode.getComponentByName(name, lads) as UAVariable | null;
    if (!variable) throw new Error(`${fn.name} has no ${name}`);
    const euRange = variable.getPropertyByName('EURange');
    euRange?.setValueFromSource({
      dataType: DataType.ExtensionObject,
      value: namespace.addressSpace.constructExtensionObject(
        namespace.addressSpace.findDataType('Range')!,
        { low: fn.range.low, high: fn.range.high },
      ),
    });
    const units = variable.getPropertyByName('EngineeringUnits');
    units?.setValueFromSource({
      dataType: DataType.ExtensionObject,
      value: namespace.addressSpace.constructExtensionObject(
        namespace.addressSpace.findDataType('EUInformation')!,
        {
          namespaceUri: 'urn:pipac:units',
          unitId: -1,
          displayName: { text: fn.unit },
          description: { text: fn.unit },
        },
      ),
    });
    return variable;
  };
  const node = (tag: string, variable: UAVariable, setpointTag?: string): TagNode => ({
    tag,
    device,
    variable,
    ...(setpointTag ? { setpointTag } : {}),
    unit: fn.unit,
    range: fn.range,
  });
  if (fn.kind === 'sensor') {
    const value = analog('SensorValue');
    value.setValueFromSource(
      { dataType: DataType.Double, value: 0 },
      StatusCodes.UncertainInitialValue,
    );
    return [node(fn.tag, value)];
  }
  const target = analog('TargetValue');
  const current = analog('CurrentValue');
  // The device refuses a target outside its range (see adjustDataValueStatusCode in node-opcua).
  namespace.addVariable({
    propertyOf: target,
    browseName: 'InstrumentRange',
    dataType: 'Range',
    value: {
      dataType: DataType.ExtensionObject,
      value: namespace.addressSpace.constructExtensionObject(
        namespace.addressSpace.findDataType('Range')!,
        { low: fn.range.low, high: fn.range.high },
      ),
    },
  });
  target.setValueFromSource({ dataType: DataType.Double, value: fn.initial });
  current.setValueFromSource({ dataType: DataType.Double, value: fn.initial });
  return [node(fn.targetTag, target, fn.setpointTag), node(fn.currentTag, current)];
}
