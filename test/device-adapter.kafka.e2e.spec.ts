/**
 * End to end on the real parts: the plant simulator (the twin behind LADS devices on an OPC UA
 * server, SignAndEncrypt with a user), a device adapter, and the Apache Kafka broker the test
 * command started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, encodeEvent, subscribeEvents, type BusMessage } from '@pipac/bus';
import {
  HEADERS,
  Issuer_Kind,
  Quality,
  SetpointCommandSchema,
  WriteConfirmation_Outcome as Outcome,
  create,
  sensorReadingCodec,
  setpointCommandCodec,
  timestampFromMs,
  writeConfirmationCodec,
  type SensorReading,
  type WriteConfirmation,
} from '@pipac/contracts';
import { DeviceAdapter } from '@pipac/device-adapter';
import { freePort } from '@pipac/opcua/testing';
import { PlantSimulator } from '@pipac/plant-simulator';
import { loadRecipe } from '@pipac/recipe';
import { runTopics, sharedBrokers } from './support/cell-topics';
import { until } from './support/until';

const USER = { username: 'adapter', password: 'e2e password' };

describe('plant simulator → device adapter → Kafka, and back', () => {
  const run = runTopics('nitration');
  let dir: string;
  let simulator: PlantSimulator;
  let adapterBus: KafkaBus;
  let testBus: KafkaBus;
  let adapter: DeviceAdapter;
  const readings: SensorReading[] = [];
  const confirmations: WriteConfirmation[] = [];
  const deadLetters: BusMessage[] = [];

  beforeAll(async () => {
    const brokers = sharedBrokers();
    dir = mkdtempSync(join(tmpdir(), 'pipac-e2e-'));
    simulator = await PlantSimulator.start({
      recipe: loadRecipe(join(__dirname, '..', 'recipes', 'paracetamol.yaml')),
      port: await freePort(),
      pkiFolder: join(dir, 'simulator-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
      timeFactor: 10,
      warmUp: 600,
      tickMs: 50,
    });
    adapterBus = new KafkaBus({ brokers, clientId: 'e2e-adapter' });
    testBus = new KafkaBus({ brokers, clientId: 'e2e-test' });
    await adapterBus.connect();
    await testBus.connect();
    adapter = await DeviceAdapter.start({
      site: run.site,
      cell: run.cell,
      step: run.step,
      nodeMap: simulator.server.nodeMap('nitration-module'),
      bus: adapterBus,
      opcua: { pkiFolder: join(dir, 'adapter-pki'), acceptUnknownCertificates: true, user: USER },
      stateDir: join(dir, 'adapter-state'),
    });
    await subscribeEvents(testBus, {
      group: 'e2e-readings',
      topic: run.topic('sensors'),
      codec: sensorReadingCodec,
      deadLetterTopic: run.deadLetters,
      fromBeginning: true,
      handler: async (r) => void readings.push(r),
    });
    await subscribeEvents(testBus, {
      group: 'e2e-confirmations',
      topic: run.topic('confirmations'),
      codec: writeConfirmationCodec,
      deadLetterTopic: run.deadLetters,
      fromBeginning: true,
      handler: async (c) => void confirmations.push(c),
    });
    await testBus.subscribe({
      group: 'e2e-dead-letters',
      topics: [run.deadLetters],
      fromBeginning: true,
      handler: async (m) => void deadLetters.push(m),
    });
  }, 120_000);

  afterAll(async () => {
    await adapter?.stop();
    await adapterBus?.disconnect();
    await testBus?.disconnect();
    await simulator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const command = (id: string, tag: string, value: number, unit: string) =>
    create(SetpointCommandSchema, {
      commandId: id,
      location: { site: run.site, cell: run.cell, step: run.step, device: 'nitration-module' },
      targetTag: tag,
      value,
      unit,
      issuer: { kind: Issuer_Kind.USER, id: 'e2e-operator' },
      reason: 'end-to-end test',
      issuedAt: timestampFromMs(Date.now()),
      deadline: timestampFromMs(Date.now() + 10_000),
    });
  const send = (c: ReturnType<typeof command>) =>
    testBus.publish(run.topic('setpoints'), [encodeEvent(setpointCommandCodec, c.targetTag, c)]);

  it("carries the simulated plant's readings to Kafka with units, quality and source times", async () => {
    const expected = [
      'P-101.PV',
      'P-101.SP',
      'TC-101.PV',
      'PCV-101.PV',
      'R-nitration.TI-hot',
      'R-nitration.PI-in',
    ];
    await until(
      () => expected.every((tag) => readings.some((r) => r.tag === tag)),
      'a reading of every module tag',
    );
    const hot = readings.find((r) => r.tag === 'R-nitration.TI-hot')!;
    expect(hot.unit).toBe('Cel'); // UCUM, as sensor_reading.proto says
    expect(hot.value).toBeGreaterThan(20);
    expect(hot.value).toBeLessThan(80);
    expect(hot.location?.device).toBe('nitration-module');
    expect(
      readings.every((r) => r.quality === Quality.GOOD && r.timestamps?.source !== undefined),
    ).toBe(true);
  });

  it("applies a setpoint command: confirmed on Kafka, and the twin's pump follows", async () => {
    await send(command('e2e-1', 'P-101', 9, 'mL/min'));
    await until(() => confirmations.some((c) => c.commandId === 'e2e-1'), 'the confirmation');
    const confirmation = confirmations.find((c) => c.commandId === 'e2e-1')!;
    expect(confirmation.outcome).toBe(Outcome.APPLIED);
    expect(confirmation.valueReadBack).toBe(9);
    expect(simulator.simulation.plant.getSetpoint('P-101')).toBe(9);
    // The value change at the device travels back as readings: the flow follows its 2 s lag.
    await until(
      () => readings.some((r) => r.tag === 'P-101.PV' && Math.abs(r.value - 9) < 0.01),
      'the pump flow reading to reach 9 mL/min',
    );
  });

  it('refuses a write outside the engineering limits, with the reason', async () => {
    await send(command('e2e-2', 'TC-101', 75, '°C'));
    await until(() => confirmations.some((c) => c.commandId === 'e2e-2'), 'the refusal');
    const refusal = confirmations.find((c) => c.commandId === 'e2e-2')!;
    expect(refusal.outcome).toBe(Outcome.REFUSED_LIMITS);
    expect(refusal.reason).toContain('outside the engineering range of TC-101, 10..50 °C');
    expect(simulator.simulation.plant.getSetpoint('TC-101')).toBe(30);
  });

  it('sends malformed commands to the dead-letter topic with the reason in headers', async () => {
    await testBus.publish(run.topic('setpoints'), [
      {
        key: 'P-101',
        value: Uint8Array.of(0x0a, 0xff),
        headers: { [HEADERS.type]: 'pipac.v1.SetpointCommand' },
      },
    ]);
    await until(() => deadLetters.length > 0, 'a dead letter');
    expect(deadLetters[0]!.headers[HEADERS.deadLetterCode]).toBe('UNDECODABLE');
    expect(deadLetters[0]!.headers[HEADERS.deadLetterReason]).toBeTruthy();
    expect(deadLetters[0]!.headers[HEADERS.deadLetterTopic]).toContain(run.topic('setpoints'));
  });
});
