import { NodeMapError, parseNodeMap } from './node-map';

const valid = {
  device: 'nitration-module',
  endpointUrl: 'opc.tcp://127.0.0.1:4841',
  namespaceUri: 'urn:pipac:devices',
  readings: {
    'P-101.PV': { nodeId: 's=nitration-module.P-101.Flow-CurrentValue', unit: 'mL/min' },
  },
  setpoints: {
    'P-101': {
      nodeId: 's=nitration-module.P-101.Flow-TargetValue',
      unit: 'mL/min',
      range: { low: 2, high: 10 },
    },
  },
};

describe('parseNodeMap', () => {
  it('accepts a complete map', () => {
    expect(parseNodeMap(valid)).toEqual(valid);
  });

  it('names the field that is wrong', () => {
    const bad = { ...valid, setpoints: { 'P-101': { nodeId: 'nitration', unit: 'mL/min' } } };
    expect(() => parseNodeMap(bad, 'adapter.yaml')).toThrow(NodeMapError);
    expect(() => parseNodeMap(bad, 'adapter.yaml')).toThrow(
      /adapter\.yaml: \/setpoints\/P-101\/nodeId must match/,
    );
  });

  it('refuses an empty or inverted range', () => {
    const bad = {
      ...valid,
      setpoints: { 'P-101': { nodeId: 's=x', unit: 'mL/min', range: { low: 5, high: 5 } } },
    };
    expect(() => parseNodeMap(bad)).toThrow(/\/setpoints\/P-101\/range low must be below high/);
  });

  it("accepts the LADS state machines' CurrentState nodes, and names a wrong one", () => {
    const state = {
      device: { nodeId: 's=nitration-module-DeviceState-CurrentState' },
      units: { 'P-101': { nodeId: 's=nitration-module.P-101-FunctionalUnitState-CurrentState' } },
    };
    expect(parseNodeMap({ ...valid, state })).toEqual({ ...valid, state });
    expect(parseNodeMap({ ...valid, state: { device: state.device } }).state!.units).toBe(
      undefined,
    );
    expect(() =>
      parseNodeMap({ ...valid, state: { ...state, units: { 'P-101': { nodeId: 'x' } } } }),
    ).toThrow(/\/state\/units\/P-101\/nodeId must match/);
    expect(() => parseNodeMap({ ...valid, state: { units: {} } })).toThrow(
      /\/state must have required property 'device'/,
    );
  });

  it('refuses an endpoint that is not opc.tcp', () => {
    expect(() => parseNodeMap({ ...valid, endpointUrl: 'http://x' })).toThrow(/\/endpointUrl/);
  });
});
