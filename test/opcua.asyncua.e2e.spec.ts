import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadRecipe, type Recipe } from '@pipac/recipe';
import { DeviceClient } from '@pipac/opcua';
import { freePort } from '@pipac/opcua/testing';
import { PlantSimulator } from '@pipac/plant-simulator';

/**
 * The plant simulator as an independent OPC UA client sees it: asyncua (Python, pinned in
 * scripts/asyncua/asyncua.sh, which scripts/test.sh runs and whose python it exports as
 * PIPAC_ASYNCUA_PYTHON) browses and reads two simulators over SignAndEncrypt with a user name.
 * What it reads is checked against the companion specifications: units (OPC UA Part 8 §5.6.3,
 * UNECE Rec 20), LADS functions (OPC 30500), the Machinery Machines folder (OPC 40001-1), ADI
 * analysers (OPC 10020), timestamps (Part 4 §7.11), the certificate and BuildInfo (Part 5 §12.4).
 */
const PYTHON = process.env['PIPAC_ASYNCUA_PYTHON'];
const SCRIPT = join(__dirname, '..', 'scripts', 'asyncua', 'inspect-server.py');
const ROOT = join(__dirname, '..');
const USER = { username: 'integrator', password: 'an independent client' };
const CEFACT = 'http://www.opcfoundation.org/UA/units/un/cefact';
const OPC_UA = 'http://opcfoundation.org/UA/';
const ADI = 'http://opcfoundation.org/UA/ADI/';
const HOSTNAMES = ['localhost', '127.0.0.1'];
const TIME_FACTOR = 10;

/** UNECE Rec 20 common codes of the units the recipes use (Rec 20 Annex II/III). */
const UNECE: Record<string, string> = {
  'mL/min': '41',
  '°C': 'CEL',
  bar: 'BAR',
  L: 'LTR',
  'mol/L': 'C38',
  '1': 'C62',
};

/** OPC UA Part 8 §5.6.3.4: the common code's characters, as bytes of an Int32, most significant first. */
function unitId(code: string): number {
  let id = 0;
  for (const c of code.slice(0, 4)) id = (id << 8) | c.charCodeAt(0);
  return id;
}

interface NodeRef {
  ns: string;
  id: string;
}
interface AnalogSeen {
  nodeId: NodeRef;
  value: unknown;
  status: string | null;
  sourceTimestamp: string | null;
  serverTimestamp: string | null;
  units: { namespaceUri: string; unitId: number; displayName: string } | null;
  range: { low: number; high: number } | null;
  instrumentRange: { ns: string; name: string } | null;
}
interface TypeSeen {
  ns: string;
  name: string;
  supertypes: { ns: string; name: string }[];
}
interface FunctionSeen {
  name: string;
  nodeId: NodeRef;
  type: TypeSeen | null;
  isEnabled: unknown;
  values: Record<string, AnalogSeen>;
  /** SensorValue and RawValue read in one request, where the function has both. */
  sensorAndRaw?: [unknown, unknown];
  controlFunctionState?: {
    currentState: string | null;
    currentStateId: NodeRef | null;
    availableStates: string[] | null;
    availableTransitions: number | null;
  };
}
interface DeviceSeen {
  name: string;
  nodeId: NodeRef;
  type: TypeSeen | null;
  functionalUnits: { name: string; functions: FunctionSeen[] }[];
  parameterSet: (Partial<AnalogSeen> & { name: string; nodeId: NodeRef })[] | null;
}
interface ServerSeen {
  namespaces: string[];
  certificate: {
    subject: { CN: string | null; O: string | null };
    dns: string[];
    ip: string[];
    uri: string[];
  };
  currentTime: string;
  buildInfo: {
    productUri: string;
    manufacturerName: string;
    productName: string;
    softwareVersion: string;
    buildNumber: string;
    buildDate: string;
  };
  machines: { name: string; nodeId: NodeRef }[] | null;
  devices: DeviceSeen[];
}

const ms = (iso: string | null): number => (iso ? Date.parse(iso) : Number.NaN);

/** Every value of every LADS function, by its path device/unit/function/variable. */
function values(server: ServerSeen): Map<string, AnalogSeen> {
  const map = new Map<string, AnalogSeen>();
  for (const device of server.devices) {
    for (const unit of device.functionalUnits) {
      for (const fn of unit.functions) {
        for (const [name, value] of Object.entries(fn.values)) {
          map.set(`${device.name}/${unit.name}/${fn.name}/${name}`, value);
        }
      }
    }
  }
  return map;
}

function functions(server: ServerSeen): FunctionSeen[] {
  return server.devices.flatMap((d) => d.functionalUnits.flatMap((u) => u.functions));
}

describe('the plant simulator as an independent OPC UA client (asyncua) sees it', () => {
  let dir: string;
  const simulators: PlantSimulator[] = [];
  let seen: ServerSeen;
  let other: ServerSeen;
  let version: string;
  /** The plant's clock just before a target was written, ms. */
  let plantAtWrite: number;

  async function inspect(simulator: PlantSimulator, name: string): Promise<ServerSeen> {
    const { stdout } = await promisify(execFile)(
      PYTHON!,
      [SCRIPT, simulator.endpointUrl, USER.username, USER.password, join(dir, name)],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return JSON.parse(stdout) as ServerSeen;
  }

  beforeAll(async () => {
    if (!PYTHON) {
      throw new Error(
        'PIPAC_ASYNCUA_PYTHON is not set: run `bash scripts/asyncua/asyncua.sh ensure` and export the path it prints (scripts/test.sh does)',
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'pipac-asyncua-'));
    for (const name of ['a', 'b']) rmSync(join(dir, name), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const recipe = loadRecipe(join(ROOT, 'recipes', 'paracetamol.yaml'));
    // The same plant without the first step's analyser: every device after it is created later.
    const withoutFirstAnalyser: Recipe = structuredClone(recipe);
    delete withoutFirstAnalyser.steps[0]!.analyser;
    for (const [name, r] of [
      ['a', recipe],
      ['b', withoutFirstAnalyser],
    ] as const) {
      simulators.push(
        await PlantSimulator.start({
          recipe: r,
          port: await freePort(),
          hostnames: HOSTNAMES,
          pkiFolder: join(dir, `server-pki-${name}`),
          security: { users: [USER], acceptUnknownCertificates: true },
          timeFactor: TIME_FACTOR,
          warmUp: 600,
        }),
      );
    }
    // Plant time runs on: at 10× three wall seconds are 30 s of plant time; then a target is
    // written (by node-opcua: the reading is asyncua's), and the plant runs on.
    await new Promise((r) => setTimeout(r, 3000));
    const writer = await DeviceClient.connect({
      nodeMap: simulators[0]!.nodeMaps().find((m) => m.device === 'nitration-module')!,
      pkiFolder: join(dir, 'writer-pki'),
      acceptUnknownCertificates: true,
      user: USER,
    });
    try {
      plantAtWrite = simulators[0]!.simulation.clock().getTime();
      expect((await writer.writeSetpoint('P-101', 7.5)).confirmed).toBe(true);
    } finally {
      await writer.close();
    }
    await new Promise((r) => setTimeout(r, 2000));
    [seen, other] = await Promise.all([inspect(simulators[0]!, 'a'), inspect(simulators[1]!, 'b')]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(simulators.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('browses every device of the recipe under the DI DeviceSet', () => {
    expect(seen.devices.map((d) => d.name)).toEqual(
      expect.arrayContaining(['nitration-module', 'AT-101', 'AT-201', 'AT-301']),
    );
    expect(values(seen).size).toBeGreaterThan(30);
  });

  it('reads UNECE units on every value (OPC UA Part 8 §5.6.3: cefact namespace, common code as unitId)', () => {
    const seenUnits = new Set<string>();
    for (const [path, value] of values(seen)) {
      const units = value.units!;
      expect({ path, units: units && typeof units }).toEqual({ path, units: 'object' });
      seenUnits.add(units.displayName);
      const code = UNECE[units.displayName];
      if (code) {
        expect({ path, ...units }).toEqual({
          path,
          namespaceUri: CEFACT,
          unitId: unitId(code),
          displayName: units.displayName,
        });
      } else {
        // Normal millilitres per minute have no Rec 20 code: pipac's own, said so.
        expect({ path, displayName: units.displayName, unitId: units.unitId }).toEqual({
          path,
          displayName: 'NmL/min',
          unitId: -1,
        });
        expect(units.namespaceUri).not.toBe(CEFACT);
      }
    }
    expect([...seenUnits].sort()).toEqual(['1', 'L', 'NmL/min', 'bar', 'mL/min', 'mol/L', '°C']);
  });

  it('reads an engineering range on every value, RawValue included, and the InstrumentRange of every target in namespace 0', () => {
    for (const [path, value] of values(seen)) {
      expect({ path, ordered: value.range !== null && value.range.low < value.range.high }).toEqual(
        { path, ordered: true },
      );
      if (path.endsWith('/TargetValue')) {
        expect({ path, instrumentRange: value.instrumentRange }).toEqual({
          path,
          instrumentRange: { ns: OPC_UA, name: 'InstrumentRange' },
        });
      }
    }
    for (const fn of functions(seen).filter((f) => f.values['RawValue'])) {
      const raw = fn.values['RawValue']!;
      const sensor = fn.values['SensorValue']!;
      expect({ fn: fn.name, units: raw.units, range: raw.range }).toEqual({
        fn: fn.name,
        units: sensor.units,
        range: sensor.range,
      });
      // The values read together, in one request: the plant moves on between two reads.
      const [sensorValue, rawValue] = fn.sensorAndRaw!;
      expect({ fn: fn.name, raw: rawValue }).toEqual({ fn: fn.name, raw: sensorValue });
    }
  });

  it('reads IsEnabled True on every LADS function, and the control functions Running (OPC 30500 §7.3, §7.6)', () => {
    const all = functions(seen);
    expect(all.length).toBeGreaterThan(20);
    for (const fn of all)
      expect({ fn: fn.nodeId.id, isEnabled: fn.isEnabled }).toEqual({
        fn: fn.nodeId.id,
        isEnabled: true,
      });
    const controls = all.filter((f) => f.values['TargetValue']);
    expect(controls.length).toBeGreaterThan(5);
    for (const fn of controls) {
      const state = fn.controlFunctionState!;
      expect({ fn: fn.nodeId.id, current: state.currentState }).toEqual({
        fn: fn.nodeId.id,
        current: 'Running',
      });
      expect(state.currentStateId).not.toBeNull();
      expect(state.availableStates).toEqual(
        expect.arrayContaining([
          'Stopped',
          'Running',
          'Stopping',
          'Aborting',
          'Aborted',
          'Clearing',
        ]),
      );
      expect(state.availableTransitions).toBeGreaterThan(0);
    }
  });

  it('finds every device in the Machinery Machines folder (OPC 40001-1 §8.1)', () => {
    const lads = seen.devices.filter((d) => d.type?.name === 'LADSDeviceType');
    expect(lads).toHaveLength(6);
    expect(seen.machines?.map((m) => m.nodeId)).toEqual(lads.map((d) => d.nodeId));
  });

  it('finds each analyser as an ADI AnalyserDeviceType with its measured values in its ParameterSet (OPC 10020)', () => {
    const analysers = seen.devices.filter((d) => /^AT-\d+$/.test(d.name));
    expect(analysers).toHaveLength(3);
    for (const device of analysers) {
      const adi = seen.devices.find((d) => d.name === `${device.name}.ADI`);
      const types = adi ? [adi.type, ...(adi.type?.supertypes ?? [])] : [];
      expect(types).toContainEqual(
        expect.objectContaining({ ns: ADI, name: 'AnalyserDeviceType' }),
      );
      const measured = device.functionalUnits[0]!.functions.map((f) => f.values['SensorValue']!);
      const parameters = adi!.parameterSet!;
      for (const value of measured) {
        expect(parameters).toContainEqual(
          expect.objectContaining({ nodeId: value.nodeId, units: value.units }),
        );
      }
    }
  });

  it('serves every value under a stable string node id: the same tag, the same id, in another recipe', () => {
    const a = values(seen);
    const b = values(other);
    for (const [path, value] of a) {
      expect({ path, kind: value.nodeId.id.slice(0, 2) }).toEqual({ path, kind: 's=' });
    }
    let shared = 0;
    for (const [path, value] of b) {
      const same = a.get(path);
      if (!same) continue;
      shared++;
      expect({ path, id: value.nodeId.id }).toEqual({ path, id: same.nodeId.id });
    }
    expect(shared).toBeGreaterThan(20);
    expect(b.size).toBeLessThan(a.size); // the analyser AT-101 is gone from the other one
  });

  it('stamps values with the plant clock the server itself runs on: source ≤ server ≤ CurrentTime (OPC UA Part 4 §7.11)', () => {
    const now = ms(seen.currentTime);
    for (const [path, value] of values(seen)) {
      const source = ms(value.sourceTimestamp);
      const server = ms(value.serverTimestamp);
      expect({ path, sourceNotAfterServer: source <= server }).toEqual({
        path,
        sourceNotAfterServer: true,
      });
      // 2 s of plant time for the reads between CurrentTime and the value
      expect({ path, serverNotAfterNow: server <= now + 2000 * TIME_FACTOR }).toEqual({
        path,
        serverNotAfterNow: true,
      });
    }
    // A written target is stamped on the plant's clock, the one its current value runs on (the
    // wall clock would be tens of seconds behind it at 10×).
    const module = values(seen);
    const sp = module.get('nitration-module/P-101/Flow/TargetValue')!;
    const pv = module.get('nitration-module/P-101/Flow/CurrentValue')!;
    expect(sp.value).toBe(7.5);
    expect(ms(sp.sourceTimestamp)).toBeGreaterThanOrEqual(plantAtWrite);
    expect(ms(sp.sourceTimestamp)).toBeLessThanOrEqual(ms(pv.sourceTimestamp));
  });

  it('stamps an analyser result with when the sample was taken (source) and when the server got it (server)', () => {
    for (const device of seen.devices.filter((d) => /^AT-\d+$/.test(d.name))) {
      for (const fn of device.functionalUnits[0]!.functions) {
        const value = fn.values['SensorValue']!;
        const delay = ms(value.serverTimestamp) - ms(value.sourceTimestamp);
        // The analysis takes its dead time and measurement time: tens of plant seconds.
        expect({ fn: fn.nodeId.id, late: delay >= 10_000 }).toEqual({
          fn: fn.nodeId.id,
          late: true,
        });
      }
    }
  });

  it("presents a certificate for the configured host names with pipac's organisation", () => {
    expect(seen.certificate.subject.O).toBe('pipac');
    expect(seen.certificate.dns).toEqual(['localhost']);
    expect(seen.certificate.ip).toEqual(['127.0.0.1']);
    expect(seen.certificate.uri).toEqual(['urn:pipac:plant-simulator']);
  });

  it("reports pipac's own BuildInfo (OPC UA Part 5 §12.4)", () => {
    expect(seen.buildInfo).toMatchObject({
      productName: 'pipac plant simulator',
      productUri: 'urn:pipac:plant-simulator',
      manufacturerName: 'pipac',
      softwareVersion: version,
    });
    const built = ms(seen.buildInfo.buildDate);
    expect(built).toBeGreaterThan(Date.parse('2025-01-01'));
    expect(built).toBeLessThanOrEqual(Date.now());
  });
});
