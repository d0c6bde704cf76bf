import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus, encodeEvent, subscribeEvents, type BusMessage } from '@pipac/bus';
import {
  DeviceStateSchema,
  HEADERS,
  IssuerSchema,
  Issuer_Kind,
  Mode,
  SetpointCommandSchema,
  WriteConfirmation_Outcome as Outcome,
  create,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  setpointCommandCodec,
  timestampFromMs,
  toBinary,
  topicName,
  writeConfirmationCodec,
  type SensorReading,
  type WriteConfirmation,
} from '@pipac/contracts';
import { DeviceServer, describePlantDevices } from '@pipac/opcua';
import { freePort, recipePlant } from '@pipac/opcua/testing';
import { DeviceAdapter } from './device-adapter';

const USER = { username: 'adapter', password: 'not anonymous' };
const place = { site: 'site', cell: 'cell', step: 'nitration' };
const topic = (stream: 'sensors' | 'setpoints' | 'confirmations' | 'state') =>
  topicName({ ...place, stream });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DeviceAdapter with the in-process bus and a real OPC UA server', () => {
  let dir: string;
  let server: DeviceServer;
  let bus: InProcessBus;
  let adapter: DeviceAdapter;
  const writes: [string, number][] = [];
  const readings: SensorReading[] = [];
  const confirmations: WriteConfirmation[] = [];
  const deadLetters: BusMessage[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-adapter-'));
    server = await DeviceServer.start({
      devices: describePlantDevices(recipePlant()),
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
      onTargetWritten: (tag, value) => writes.push([tag, value]),
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
    });
    await subscribeEvents(bus, {
      group: 'test-readings',
      topic: topic('sensors'),
      codec: sensorReadingCodec,
      deadLetterTopic: deadLetterTopic('site', 'cell'),
      fromBeginning: true,
      handler: async (r) => void readings.push(r),
    });
    await subscribeEvents(bus, {
      group: 'test-confirmations',
      topic: topic('confirmations'),
      codec: writeConfirmationCodec,
      deadLetterTopic: deadLetterTopic('site', 'cell'),
      fromBeginning: true,
      handler: async (c) => void confirmations.push(c),
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

  const command = (id: string, tag: string, value: number, deadlineMs = 5000) =>
    create(SetpointCommandSchema, {
      commandId: id,
      location: { ...place, device: 'nitration-module' },
      targetTag: tag,
      value,
      unit: tag.startsWith('TC') ? '°C' : 'mL/min',
      issuer: { kind: Issuer_Kind.AGENT, id: 'agent-nitration', modelVersion: 'test-1' },
      reason: 'test',
      issuedAt: timestampFromMs(Date.now() + Math.min(0, deadlineMs) - 1000),
      deadline: timestampFromMs(Date.now() + deadlineMs),
    });
  const send = (c: ReturnType<typeof command>) =>
    bus.publish(topic('setpoints'), [encodeEvent(setpointCommandCodec, c.targetTag, c)]);
  const confirmationOf = async (id: string) => {
    await until(() => confirmations.some((c) => c.commandId === id));
    return confirmations.filter((c) => c.commandId === id);
  };

  it('turns a device value change into a sensor reading with quality, unit and timestamps', async () => {
    const measured = Date.now() - 500;
    server.update('R-nitration.TI-hot', { value: 41.5, sourceTime: new Date(measured) });
    await until(() => readings.some((r) => r.tag === 'R-nitration.TI-hot' && r.value === 41.5));
    const reading = readings.find((r) => r.tag === 'R-nitration.TI-hot' && r.value === 41.5)!;
    // On the bus in UCUM (SensorReading.unit), the device's °C translated.
    expect(reading).toMatchObject({ unit: 'Cel', quality: 1, statusCode: 0 });
    expect(reading.location).toMatchObject({ ...place, device: 'nitration-module' });
    expect(
      Number(reading.timestamps!.source!.seconds) * 1000 + reading.timestamps!.source!.nanos / 1e6,
    ).toBe(measured);
  });

  it('applies a setpoint command, confirmed by read-back', async () => {
    await send(command('cmd-1', 'P-101', 7.5));
    const [confirmation] = await confirmationOf('cmd-1');
    expect(confirmation).toMatchObject({
      outcome: Outcome.APPLIED,
      valueReadBack: 7.5,
      targetTag: 'P-101',
      unit: 'mL/min',
    });
    expect(server.value('P-101.SP')).toBe(7.5);
    expect(writes.filter(([, v]) => v === 7.5)).toHaveLength(1);
  });

  it('never applies a command twice: a redelivery gets the same confirmation again', async () => {
    await send(command('cmd-2', 'P-101', 8));
    await confirmationOf('cmd-2');
    await send(command('cmd-2', 'P-101', 8));
    await until(() => confirmations.filter((c) => c.commandId === 'cmd-2').length === 2);
    const answers = confirmations.filter((c) => c.commandId === 'cmd-2');
    expect(answers.map((c) => c.outcome)).toEqual([Outcome.APPLIED, Outcome.APPLIED]);
    expect(writes.filter(([t, v]) => t === 'P-101' && v === 8)).toHaveLength(1);
  });

  it('refuses a reused command id that asks for something else', async () => {
    await send(command('cmd-2', 'P-101', 9));
    await until(() => confirmations.filter((c) => c.commandId === 'cmd-2').length === 3);
    const last = confirmations.filter((c) => c.commandId === 'cmd-2').at(-1)!;
    expect(last.outcome).toBe(Outcome.DUPLICATE);
    expect(server.value('P-101.SP')).toBe(8);
  });

  it('refuses a write outside the engineering limits, with the reason, before writing', async () => {
    const before = writes.length;
    await send(command('cmd-3', 'TC-101', 95));
    const [confirmation] = await confirmationOf('cmd-3');
    expect(confirmation!.outcome).toBe(Outcome.REFUSED_LIMITS);
    expect(confirmation!.reason).toBe(
      '95 °C is outside the engineering range of TC-101, 10..50 °C',
    );
    expect(writes.length).toBe(before);
  });

  it('refuses a command past its deadline', async () => {
    await send(command('cmd-4', 'P-101', 5, -1000));
    const [confirmation] = await confirmationOf('cmd-4');
    expect(confirmation!.outcome).toBe(Outcome.REFUSED_EXPIRED);
    expect(server.value('P-101.SP')).toBe(8);
  });

  it('ignores commands for another device of the step', async () => {
    const other = command('cmd-5', 'AT-101.conversion', 1);
    other.location!.device = 'AT-101';
    await send(other);
    await send(command('cmd-6', 'P-101', 6));
    await confirmationOf('cmd-6');
    expect(confirmations.some((c) => c.commandId === 'cmd-5')).toBe(false);
  });

  it('sends a malformed command to the dead-letter topic with the reason', async () => {
    await bus.publish(topic('setpoints'), [
      {
        key: 'P-101',
        value: Uint8Array.of(0xff, 0xff, 0xff),
        headers: { [HEADERS.type]: 'pipac.v1.SetpointCommand' },
      },
    ]);
    // Well-formed protobuf, but without a command id: the codec's validation refuses it.
    const invalid = toBinary(SetpointCommandSchema, command('', 'P-101', 6));
    await bus.publish(topic('setpoints'), [
      { key: 'P-101', value: invalid, headers: { [HEADERS.type]: 'pipac.v1.SetpointCommand' } },
    ]);
    await until(() => deadLetters.length >= 2);
    expect(deadLetters.map((m) => m.headers[HEADERS.deadLetterCode])).toEqual([
      'UNDECODABLE',
      'INVALID',
    ]);
    expect(deadLetters[1]!.headers[HEADERS.deadLetterReason]).toMatch(/command_id is required/);
    expect(deadLetters[0]!.headers[HEADERS.deadLetterTopic]).toMatch(
      /^pipac\.site\.cell\.nitration\.setpoints\//,
    );
  });
  const operator = (id: string, tag: string, value: number, issuedAt = Date.now()) => {
    const c = command(id, tag, value);
    c.location!.device = '';
    c.issuer = create(IssuerSchema, { kind: Issuer_Kind.USER, id: 'olga' });
    c.reason = 'lab sample';
    c.issuedAt = timestampFromMs(issuedAt);
    return c;
  };

  it("takes an operator's setpoint named by its target-value reading, confirmed under the setpoint's tag", async () => {
    await send(operator('op-1', 'P-101.SP', 4.5));
    const [confirmation] = await confirmationOf('op-1');
    expect(confirmation).toMatchObject({
      outcome: Outcome.APPLIED,
      targetTag: 'P-101',
      valueReadBack: 4.5,
    });
    expect(server.value('P-101.SP')).toBe(4.5);
  });

  it("refuses the agent's commands after an operator's setpoint, until the step is in Automatic again", async () => {
    const t0 = Date.now();
    await send(operator('op-2', 'P-101', 5.5, t0));
    expect((await confirmationOf('op-2'))[0]!.outcome).toBe(Outcome.APPLIED);
    // An agent command issued after the operator acted (the agent had not seen it yet).
    const late = command('agent-late', 'P-101', 7);
    late.issuedAt = timestampFromMs(t0 + 1);
    await send(late);
    const [refused] = await confirmationOf('agent-late');
    expect(refused).toMatchObject({ outcome: Outcome.REFUSED_MODE, targetTag: 'P-101' });
    expect(refused!.reason).toMatch(/Operator mode since .*user:olga took the hand/);
    expect(server.value('P-101.SP')).toBe(5.5);
    // A person puts the step back in Automatic: the agent writes again.
    await bus.publish(topic('state'), [
      encodeEvent(
        deviceStateCodec,
        'nitration',
        create(DeviceStateSchema, {
          location: { ...place, device: '' },
          mode: Mode.AUTOMATIC,
          changedBy: { kind: Issuer_Kind.USER, id: 'olga' },
          reason: 'sample taken',
          changedAt: timestampFromMs(t0 + 2),
        }),
      ),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    await send(command('agent-again', 'P-101', 7));
    expect((await confirmationOf('agent-again'))[0]!.outcome).toBe(Outcome.APPLIED);
    expect(server.value('P-101.SP')).toBe(7);
  });
});
