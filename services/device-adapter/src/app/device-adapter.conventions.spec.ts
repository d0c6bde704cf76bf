import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus, subscribeEvents, type BusMessage } from '@pipac/bus';
import {
  Mode,
  REPUBLISHED_HEADER,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  timestampMs,
  topicName,
  type DeviceState,
  type SensorReading,
} from '@pipac/contracts';
import { DeviceServer, describePlantDevices } from '@pipac/opcua';
import { freePort, recipePlant } from '@pipac/opcua/testing';
import { DeviceAdapter } from './device-adapter';

const USER = { username: 'adapter', password: 'not anonymous' };
const place = { site: 'site', cell: 'cell', step: 'nitration' };
const topic = (stream: 'sensors' | 'setpoints' | 'state') => topicName({ ...place, stream });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A reading as a historian identifies it: tag, value and source time. */
const identity = (r: SensorReading) =>
  `${r.tag}=${r.value}@${r.timestamps?.source ? timestampMs(r.timestamps.source) : '?'}`;

/**
 * The adapter's Kafka conventions (issue 19, item 6) on the in-process bus: each reading is on
 * `sensors` once; a quiet tag's last value is repeated for late joiners, marked; the device's
 * connection and LADS state are on `state`; a tombstone on `setpoints` is a legal delete, not a dead letter.
 */
describe('DeviceAdapter conventions on the bus', () => {
  let dir: string;
  let server: DeviceServer;
  let bus: InProcessBus;
  let adapter: DeviceAdapter;
  const readings: { reading: SensorReading; republished: boolean }[] = [];
  const states: DeviceState[] = [];
  const deadLetters: BusMessage[] = [];
  const REFRESH_MS = 300;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-adapter-conventions-'));
    server = await DeviceServer.start({
      devices: describePlantDevices(recipePlant()),
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
    });
    bus = new InProcessBus();
    await bus.connect();
    adapter = await DeviceAdapter.start({
      ...place,
      nodeMap: server.nodeMap('nitration-module'),
      bus,
      opcua: { pkiFolder: join(dir, 'client-pki'), acceptUnknownCertificates: true, user: USER },
      stateDir: join(dir, 'state'),
      spoolSync: false,
      refreshMs: REFRESH_MS,
    });
    await subscribeEvents(bus, {
      group: 'test-readings',
      topic: topic('sensors'),
      codec: sensorReadingCodec,
      deadLetterTopic: deadLetterTopic('site', 'cell'),
      fromBeginning: true,
      handler: async (reading, message) =>
        void readings.push({
          reading,
          republished: message.headers[REPUBLISHED_HEADER] === 'true',
        }),
    });
    await subscribeEvents(bus, {
      group: 'test-state',
      topic: topic('state'),
      codec: deviceStateCodec,
      deadLetterTopic: deadLetterTopic('site', 'cell'),
      fromBeginning: true,
      handler: async (state, message) => {
        if (message.key === 'nitration-module') states.push(state);
      },
    });
    await bus.subscribe({
      group: 'test-dead-letters',
      topics: [deadLetterTopic('site', 'cell')],
      fromBeginning: true,
      handler: async (m) => void deadLetters.push(m),
    });
  }, 60_000);

  afterAll(async () => {
    await adapter?.stop();
    await bus?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes each reading once; a quiet tag is repeated for late joiners, marked, with its source time', async () => {
    // A tag that changes faster than the refresh period, for three periods.
    for (let i = 1; i <= 18; i++) {
      server.update('R-nitration.TI-hot', { value: 40 + i / 10 });
      await new Promise((r) => setTimeout(r, REFRESH_MS / 6));
    }
    // The setpoint read-back P-101.SP never changes: it is repeated.
    await until(() => readings.some((r) => r.republished && r.reading.tag === 'P-101.SP'));
    await adapter.flushed();

    // The historian's view (unmarked messages): every reading once.
    const unmarked = readings.filter((r) => !r.republished).map((r) => identity(r.reading));
    expect(unmarked.length).toBeGreaterThan(18);
    expect(unmarked.filter((id, i) => unmarked.indexOf(id) !== i)).toEqual([]);
    // A repeat is a reading published before (same value and source time), never a new one.
    for (const repeat of readings.filter((r) => r.republished)) {
      expect(unmarked).toContain(identity(repeat.reading));
    }
    expect(adapter.stats.republished).toBeGreaterThan(0);
  });

  it("puts the device's connection on the state topic, keyed by device", async () => {
    await until(() => states.length > 0);
    expect(states[0]).toMatchObject({
      location: { ...place, device: 'nitration-module' },
      connected: true,
      mode: Mode.AUTOMATIC,
      reason: 'adapter started',
    });
  });

  it("puts the device's LADS state on the state topic at start and follows each change", async () => {
    const units = ['P-101', 'P-102', 'TC-101', 'PCV-101', 'R-nitration', 'tank-1'];
    const running = units.map((unit) => `${unit}: Running`).join(', ');
    await until(() => states.length > 0);
    // At start: the device's DeviceState, then each functional unit's state (docs/topics.md).
    expect(states[0]!.state).toBe(`Operate; ${running}`);
    const seen = states.length;

    // OPC 30500-1 §7.1.2: the device goes to Sleep, and back.
    server.setDeviceState('nitration-module', 'Sleep');
    await until(() => states.length > seen);
    expect(states[seen]).toMatchObject({
      location: { ...place, device: 'nitration-module' },
      state: `Sleep; ${running}`,
      connected: true,
      mode: Mode.AUTOMATIC,
      reason: 'LADS state changed',
    });
    server.setDeviceState('nitration-module', 'Operate');
    await until(() => states.length > seen + 1);
    expect(states[seen + 1]!.state).toBe(`Operate; ${running}`);

    // A functional unit aborts (FunctionalUnitState), and recovers.
    server.setUnitState('nitration-module', 'R-nitration', 'Aborted');
    await until(() => states.length > seen + 2);
    expect(states[seen + 2]!.state).toBe(
      `Operate; ${running.replace('R-nitration: Running', 'R-nitration: Aborted')}`,
    );
    server.setUnitState('nitration-module', 'R-nitration', 'Running');
    await until(() => states.length > seen + 3);
    expect(states[seen + 3]!.state).toBe(`Operate; ${running}`);

    // One DeviceState per change, none for a state the device did not change.
    await new Promise((r) => setTimeout(r, 300));
    expect(states.slice(seen).map((s) => s.reason)).toEqual(Array(4).fill('LADS state changed'));
  });

  it('ignores and counts a tombstone on the setpoints topic (a deleted key), dead-letters nothing', async () => {
    await bus.publish(topic('setpoints'), [
      { key: 'P-101', value: new Uint8Array(0), tombstone: true },
    ]);
    await until(() => adapter.stats.tombstones === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(deadLetters).toEqual([]);
  });
});
