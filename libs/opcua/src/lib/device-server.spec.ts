import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { recipePlant } from '../testing/reference-plant';
import { DeviceClient, type LadsState, type TagSample } from './device-client';
import { describePlantDevices } from './device-model';
import { DeviceServer, TargetRefusedError } from './device-server';

const USER = { username: 'operator', password: 'correct horse battery staple' };
/** A value the device in this spec cannot apply (its owner refuses it, as a plant may). */
const REFUSED = 11.75;

describe('DeviceServer and DeviceClient on loopback (SignAndEncrypt, Basic256Sha256)', () => {
  let dir: string;
  let server: DeviceServer;
  const written: [string, number][] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-opcua-'));
    server = await DeviceServer.start({
      devices: describePlantDevices(recipePlant()),
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
      onTargetWritten: (tag, value) => {
        if (value === REFUSED) throw new TargetRefusedError(`${tag} cannot run at ${value}`);
        written.push([tag, value]);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = (options: Partial<Parameters<typeof DeviceClient.connect>[0]> = {}) =>
    DeviceClient.connect({
      nodeMap: server.nodeMap('nitration-module'),
      pkiFolder: join(dir, 'client-pki'),
      acceptUnknownCertificates: true,
      user: USER,
      ...options,
    });

  it('serves a node map naming every reading and setpoint of a device', () => {
    const map = server.nodeMap('nitration-module');
    expect(Object.keys(map.setpoints)).toEqual(['P-101', 'P-102', 'TC-101', 'PCV-101']);
    expect(Object.keys(map.readings)).toContain('R-nitration.TI-hot');
    expect(map.setpoints['P-101']!.nodeId).toBe(map.readings['P-101.SP']!.nodeId);
  });

  it('runs the LADS state machines: devices Operate, units Running, an analyser can abort', () => {
    expect(server.unitState('AT-101', 'AT-101')).toBe('Running');
    server.setUnitState('AT-101', 'AT-101', 'Aborted');
    expect(server.unitState('AT-101', 'AT-101')).toBe('Aborted');
    server.setUnitState('AT-101', 'AT-101', 'Running');
    expect(server.unitState('nitration-module', 'P-101')).toBe('Running');
    expect(() => server.setUnitState('AT-101', 'P-101', 'Running')).toThrow(
      /no functional unit P-101/,
    );
  });

  it("names the CurrentState of the device's and its functional units' LADS state machines", () => {
    const map = server.nodeMap('AT-101');
    // OPC 30500-1 §7.1.1 (DeviceState), OPC 10000-16 §4.4.6 (CurrentState): stable string ids.
    expect(map.state).toEqual({
      device: { nodeId: 's=AT-101-DeviceState-CurrentState' },
      units: { 'AT-101': { nodeId: 's=AT-101.AT-101-FunctionalUnitState-CurrentState' } },
    });
    expect(Object.keys(server.nodeMap('nitration-module').state!.units!)).toEqual([
      'P-101',
      'P-102',
      'TC-101',
      'PCV-101',
      'R-nitration',
      'tank-1',
    ]);
  });

  it('moves a device between the LADS device states', () => {
    expect(server.deviceState('AT-101')).toBe('Operate');
    server.setDeviceState('AT-101', 'Sleep');
    expect(server.deviceState('AT-101')).toBe('Sleep');
    server.setDeviceState('AT-101', 'Operate');
    expect(server.deviceState('AT-101')).toBe('Operate');
    expect(() => server.setDeviceState('P-101', 'Sleep')).toThrow(/no device P-101/);
  });

  it('monitors the LADS state: the initial one, then each change once', async () => {
    const client = await connect({ nodeMap: server.nodeMap('AT-101') });
    const changes: LadsState[] = [];
    try {
      const initial = await client.monitorState((state) => changes.push(state));
      expect(initial).toEqual({ device: 'Operate', units: [{ unit: 'AT-101', state: 'Running' }] });
      const changed = async (count: number) => {
        const deadline = Date.now() + 5000;
        while (changes.length < count && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
      };
      // One at a time: changes within one publishing interval arrive in the items' order.
      server.setUnitState('AT-101', 'AT-101', 'Aborted');
      await changed(1);
      server.setDeviceState('AT-101', 'Sleep');
      await changed(2);
      await new Promise((r) => setTimeout(r, 200)); // nothing else follows
      expect(changes).toEqual([
        { device: 'Operate', units: [{ unit: 'AT-101', state: 'Aborted' }] },
        { device: 'Sleep', units: [{ unit: 'AT-101', state: 'Aborted' }] },
      ]);
      expect(client.ladsState()).toEqual(changes[1]);
    } finally {
      server.setDeviceState('AT-101', 'Operate');
      server.setUnitState('AT-101', 'AT-101', 'Running');
      await client.close();
    }
  }, 30_000);

  it('reads the engineering range of each setpoint from the device (EURange)', async () => {
    const client = await connect();
    try {
      expect(client.setpointRange('P-101')).toEqual({ low: 0, high: 12 }); // 0 stops the pump
      expect(client.setpointRange('TC-101')).toEqual({ low: 10, high: 50 });
    } finally {
      await client.close();
    }
  }, 30_000);

  it('writes a setpoint, confirms it by read-back, and tells the device owner', async () => {
    const client = await connect();
    try {
      const outcome = await client.writeSetpoint('P-101', 7.25);
      expect(outcome).toEqual({
        confirmed: true,
        writeStatus: 'Good',
        readBack: 7.25,
        readStatus: 'Good',
      });
      expect(server.value('P-101.SP')).toBe(7.25);
      expect(written).toContainEqual(['P-101', 7.25]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('refuses a setpoint outside the engineering range at the device (BadOutOfRange)', async () => {
    const client = await connect();
    try {
      const before = server.value('TC-101.SP');
      const outcome = await client.writeSetpoint('TC-101', 95);
      expect(outcome.confirmed).toBe(false);
      expect(outcome.writeStatus).toBe('BadOutOfRange');
      expect(outcome.readBack).toBe(before);
    } finally {
      await client.close();
    }
  }, 30_000);

  it.each([
    ['NaN', Number.NaN],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])(
    'refuses %s before storing it (BadOutOfRange): the device keeps reporting what it applied',
    async (_name, bad) => {
      const client = await connect();
      const reported: TagSample[] = [];
      try {
        expect((await client.writeSetpoint('P-101', 4.5)).confirmed).toBe(true);
        await client.monitor((sample) => {
          if (sample.tag === 'P-101.SP') reported.push(sample);
        });
        const before = written.length;
        const outcome = await client.writeSetpoint('P-101', bad);
        expect(outcome).toEqual({
          confirmed: false,
          writeStatus: 'BadOutOfRange',
          readBack: 4.5,
          readStatus: 'Good',
        });
        expect(server.value('P-101.SP')).toBe(4.5);
        expect(written.length).toBe(before); // the owner was never asked to apply it
        await new Promise((r) => setTimeout(r, 300)); // a few publishing intervals
        expect(reported.length).toBeGreaterThan(0);
        expect(reported.every((s) => s.value === 4.5 && s.statusCode === 0)).toBe(true);
      } finally {
        await client.close();
      }
    },
    30_000,
  );

  it('refuses a value its owner cannot apply, and keeps the one applied before', async () => {
    const client = await connect();
    try {
      expect((await client.writeSetpoint('P-101', 5.5)).confirmed).toBe(true);
      const outcome = await client.writeSetpoint('P-101', REFUSED);
      expect(outcome.writeStatus).toBe('BadOutOfRange');
      expect(outcome.readBack).toBe(5.5);
      expect(server.value('P-101.SP')).toBe(5.5);
      expect(written.at(-1)).toEqual(['P-101', 5.5]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('reports every value change with its status and source time', async () => {
    const client = await connect();
    const samples: TagSample[] = [];
    try {
      await client.monitor((sample) => samples.push(sample));
      // A change made before the server recorded the item's initial value folds into it:
      // start once the initial value of the tag is in.
      const initialDeadline = Date.now() + 5000;
      while (!samples.some((s) => s.tag === 'R-nitration.TI-hot') && Date.now() < initialDeadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const measured = new Date(Date.now() - 1000);
      for (let i = 1; i <= 20; i++) {
        server.update('R-nitration.TI-hot', {
          value: 30 + i / 10,
          sourceTime: new Date(measured.getTime() + i),
        });
      }
      const deadline = Date.now() + 5000;
      const hot = () => samples.filter((s) => s.tag === 'R-nitration.TI-hot' && s.value > 30);
      while (hot().length < 20 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(hot().map((s) => s.value)).toEqual(
        Array.from({ length: 20 }, (_, i) => 30 + (i + 1) / 10),
      );
      expect(hot()[0]!.sourceTime).toBe(measured.getTime() + 1);
      expect(hot()[0]!.statusCode).toBe(0);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('refuses a wrong password and anonymous sessions', async () => {
    await expect(connect({ user: { username: 'operator', password: 'wrong' } })).rejects.toThrow(
      /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/,
    );
    const anonymous = { ...USER } as Partial<typeof USER>;
    delete anonymous.username;
    await expect(
      DeviceClient.connect({
        nodeMap: server.nodeMap('nitration-module'),
        pkiFolder: join(dir, 'client-pki'),
        acceptUnknownCertificates: true,
      }),
    ).rejects.toThrow();
  }, 30_000);
});
