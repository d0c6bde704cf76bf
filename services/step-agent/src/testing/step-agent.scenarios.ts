import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEvent, subscribeEvents, type BusMessage, type EventBus } from '@pipac/bus';
import { StepSpace, tuneConversionPid } from '@pipac/control';
import {
  AutomaticSource,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  SetpointCommandSchema,
  ThroughputTargetSchema,
  create,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  setpointCommandCodec,
  stepStatusCodec,
  throughputTargetCodec,
  timestampFromMs,
  timestampMs,
  topicName,
  type DeviceState,
  type SetpointCommand,
  type StepStatus,
} from '@pipac/contracts';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { StepAgent, type StepAgentOptions } from '../app/step-agent';
import { stepSensorReadings, writeTestPolicy } from './step-fixtures';

const recipePath = join(__dirname, '..', '..', '..', '..', 'recipes', 'paracetamol.yaml');

export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The step agent's behaviour on a bus, as one suite: the unit spec runs it on the in-process
 * bus, the end-to-end suite on a real Kafka broker. `makeBus` gives a connected bus whose
 * topics no earlier test has used (`prefix` makes the site name unique).
 */
export function describeStepAgentScenarios(
  name: string,
  makeBus: () => Promise<{ bus: EventBus; site: string; close: () => Promise<void> }>,
): void {
  describe(`StepAgent on ${name}`, () => {
    const model = compilePlant(loadRecipe(recipePath));
    const space = new StepSpace(model, 'hydrogenation');
    // Tuned once for the suite (a step test on the twin takes a second or two).
    const fallbackTuning = tuneConversionPid(model, 'hydrogenation');
    jest.setTimeout(60_000);
    let dir: string;
    let bus: EventBus;
    let site: string;
    let close: () => Promise<void>;
    let agent: StepAgent;
    let now: number;
    let commands: SetpointCommand[];
    let statuses: StepStatus[];
    let deadLetters: BusMessage[];
    const topic = (stream: 'sensors' | 'setpoints' | 'status' | 'state' | 'targets') =>
      topicName({ site, cell: 'cell', step: 'hydrogenation', stream });

    /** An agent on this test's bus and models, cycled by hand, on the test's clock. */
    const startAgent = (overrides: Partial<StepAgentOptions> = {}) =>
      StepAgent.start({
        site,
        cell: 'cell',
        step: 'hydrogenation',
        model,
        bus,
        modelsDir: dir,
        fallbackTuning,
        autoCycle: false,
        modelPollMs: 0,
        clock: () => now,
        log: () => undefined,
        ...overrides,
      });

    const publishReadings = async (options: Parameters<typeof stepSensorReadings>[2] = {}) => {
      const readings = stepSensorReadings(space, now, options);
      const expected = agent.stats.readings + readings.length;
      await bus.publish(
        topic('sensors'),
        readings.map((r) =>
          encodeEvent(sensorReadingCodec, r.tag, { ...r, location: { ...r.location!, site } }),
        ),
      );
      await until(() => agent.stats.readings >= expected);
    };

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pipac-step-agent-'));
      ({ bus, site, close } = await makeBus());
      now = Date.UTC(2026, 10, 29, 8);
      commands = [];
      statuses = [];
      deadLetters = [];
      writeTestPolicy(dir, space, 1);
      agent = await startAgent();
      await subscribeEvents(bus, {
        group: 'test-setpoints',
        topic: topic('setpoints'),
        codec: setpointCommandCodec,
        deadLetterTopic: deadLetterTopic(site, 'cell'),
        fromBeginning: true,
        handler: async (c) => void (c.issuer?.kind !== Issuer_Kind.USER && commands.push(c)),
      });
      await subscribeEvents(bus, {
        group: 'test-status',
        topic: topic('status'),
        codec: stepStatusCodec,
        deadLetterTopic: deadLetterTopic(site, 'cell'),
        fromBeginning: true,
        handler: async (s) => void statuses.push(s),
      });
      await bus.subscribe({
        group: 'test-dead-letters',
        topics: [deadLetterTopic(site, 'cell')],
        fromBeginning: true,
        handler: async (m) => void deadLetters.push(m),
      });
    });

    afterEach(async () => {
      await agent.stop();
      await close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes nothing until it has every reading, nor in Operator mode (its start mode)', async () => {
      const first = await agent.cycle();
      expect(first.missing).toEqual(expect.arrayContaining(['P-201.SP', 'R-hydrogenation.TI-hot']));
      await publishReadings();
      const operator = await agent.cycle();
      expect(operator).toMatchObject({ mode: 'operator', source: 'none', commands: 0 });
      await until(() => statuses.length >= 2);
      expect(statuses.at(-1)).toMatchObject({
        mode: Mode.OPERATOR,
        modelVersion: agent.modelVersion,
      });
      expect(commands).toHaveLength(0);
    });

    it('in Automatic, sends the shielded proposal of its policy, each command carrying the model version', async () => {
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      const report = await agent.cycle();
      expect(report.source).toBe('agent');
      expect(report.commands).toBeGreaterThan(0);
      await until(() => commands.length === report.commands);
      for (const command of commands) {
        expect(command.issuer).toMatchObject({
          kind: Issuer_Kind.AGENT,
          modelVersion: agent.modelVersion,
        });
        const m = space.manipulated.find((x) => x.tag === command.targetTag)!;
        // Inside the agent's range and one move from the recipe value the devices hold.
        expect(command.value).toBeGreaterThanOrEqual(m.agent.low);
        expect(command.value).toBeLessThanOrEqual(m.agent.high);
        expect(Math.abs(command.value - m.nominal)).toBeLessThanOrEqual(m.maxMove + 1e-9);
      }
      expect(agent.modelVersion).toMatch(/^sha256:/);
    });

    it("dates each command's deadline on its own clock: one cycle, at least 2 s of wall clock, in plant time", async () => {
      // A cell at 120×: the timer ticks every 500 wall ms (one 60 s plant cycle), the agent's
      // clock is the plant's, and the adapter checks the deadline on that same clock.
      await agent.stop();
      agent = await startAgent({ cycleMs: 500, timeFactor: 120 });
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      const report = await agent.cycle();
      await until(() => commands.length === report.commands && report.commands > 0);
      for (const command of commands) {
        const life = timestampMs(command.deadline!) - timestampMs(command.issuedAt!);
        // max(500 ms cycle, 2 s floor) of wall clock = 240 s of plant time (was 500 plant ms).
        expect(life).toBe(2000 * 120);
      }
    });

    it('pauses on a target of 0 (feed pumps to zero through the shield) and resumes on a flow', async () => {
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      const target = (outletFlow: number, reason: string) =>
        encodeEvent(
          throughputTargetCodec,
          'hydrogenation',
          create(ThroughputTargetSchema, {
            location: { site, cell: 'cell', step: 'hydrogenation' },
            outletFlow,
            outletFlowMin: outletFlow,
            outletFlowMax: outletFlow,
            reason,
            issuedAt: timestampFromMs(now),
            validUntil: timestampFromMs(now + 600_000),
          }),
        );
      await bus.publish(topic('targets'), [target(0, 'tank-1 low 0.26 L: paused')]);
      await until(() => agent.paused);
      const paused = await agent.cycle();
      expect(paused.source).toBe('fallback');
      for (const m of space.manipulated) {
        const value = paused.setpoints[m.tag]!;
        // Pumps head for zero at the move limit; the jacket holds.
        expect(value).toBeCloseTo(m.kind === 'pump' ? m.nominal - m.maxMove : m.nominal, 9);
      }
      await bus.publish(topic('targets'), [target(7.3, 'bottleneck acetylation 1.00')]);
      await until(() => !agent.paused);
      now += 60_000;
      await publishReadings();
      const resumed = await agent.cycle();
      const pump = space.manipulated.find((m) => m.kind === 'pump')!;
      expect(resumed.setpoints[pump.tag]).toBeGreaterThan(pump.nominal - pump.maxMove - 1e-9);
    });

    it('reports its capacity and production rate in its status once the analyser has results', async () => {
      await publishReadings({ conversion: space.step.minConversion + 0.02 });
      await agent.cycle();
      for (let i = 1; i <= 3; i++) {
        now += 60_000;
        await publishReadings({ conversion: space.step.minConversion + 0.02 });
        await agent.cycle();
      }
      await until(() => statuses.length >= 4);
      const last = statuses.at(-1)!;
      expect(last.capacityKnown).toBe(true);
      // Above its conversion minimum the step could run faster than the recipe's flow.
      expect(last.capacity).toBeGreaterThan(last.outletFlow);
      expect(last.productionRate).toBeGreaterThan(0);
    });

    it('hands over to the PID fallback when the analyser goes stale, and back when it is fresh again', async () => {
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      expect((await agent.cycle()).source).toBe('agent');
      now += 3600_000;
      await publishReadings({ analyserAge: 3600_000 });
      const stale = await agent.cycle();
      expect(stale.source).toBe('fallback');
      expect(stale.interventions.map((i) => i.reason)).toContain('stale-input');
      await until(() => commands.some((c) => c.issuer?.kind === Issuer_Kind.FALLBACK_CONTROLLER));
      let source = stale.source;
      for (let i = 0; i < 4 && source !== 'agent'; i++) {
        now += 60_000;
        await publishReadings();
        source = (await agent.cycle()).source;
      }
      expect(source).toBe('agent');
    });

    it('proposes but never writes in shadow mode', async () => {
      await agent.stop();
      agent = await startAgent({ mode: 'automatic', shadow: true, group: 'shadow' });
      await publishReadings();
      const report = await agent.cycle();
      expect(report.source).toBe('agent');
      expect(Object.keys(report.setpoints).length).toBeGreaterThan(0);
      expect(report.commands).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(commands).toHaveLength(0);
    });

    it('gives way to the operator: a user setpoint or a mode request ends Automatic at once', async () => {
      const feedback: DeviceState[] = [];
      await subscribeEvents(bus, {
        group: 'test-state',
        topic: topic('state'),
        codec: deviceStateCodec,
        deadLetterTopic: deadLetterTopic(site, 'cell'),
        fromBeginning: true,
        handler: async (s) => void (s.state === STEP_MODE_FEEDBACK && feedback.push(s)),
      });
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      await agent.cycle();
      const operatorCommand = create(SetpointCommandSchema, {
        commandId: 'operator-1',
        location: { site, cell: 'cell', step: 'hydrogenation' },
        targetTag: 'TC-201',
        value: 55,
        unit: '°C',
        issuer: { kind: Issuer_Kind.USER, id: 'alice' },
        reason: 'hot spot check',
        issuedAt: timestampFromMs(now),
        deadline: timestampFromMs(now + 60_000),
      });
      await bus.publish(topic('setpoints'), [
        encodeEvent(setpointCommandCodec, 'TC-201', operatorCommand),
      ]);
      await until(() => agent.mode === 'operator');
      expect(agent.modeLog.at(-1)).toMatchObject({ mode: 'operator', by: 'user:alice' });
      expect(feedback).not.toHaveLength(0);
      const sent = commands.length;
      expect((await agent.cycle()).commands).toBe(0);
      // A mode request from a person puts it back in Automatic, on the fallback as asked.
      const request = create(DeviceStateSchema, {
        location: { site, cell: 'cell', step: 'hydrogenation' },
        mode: Mode.AUTOMATIC,
        source: AutomaticSource.FALLBACK,
        changedBy: { kind: Issuer_Kind.USER, id: 'bob' },
        reason: 'model under review',
        changedAt: timestampFromMs(now),
      });
      await bus.publish(topic('state'), [encodeEvent(deviceStateCodec, 'hydrogenation', request)]);
      await until(() => agent.mode === 'automatic');
      // Each change is announced on the state topic: the mode taken, who asked and why.
      await until(() => feedback.length >= 3);
      expect(
        feedback.map((f) => [
          f.mode,
          f.source,
          f.changedBy?.kind,
          f.changedBy?.id,
          f.reason,
          f.state,
        ]),
      ).toEqual([
        [Mode.AUTOMATIC, AutomaticSource.AGENT, Issuer_Kind.AGENT, 'test', 'start', 'ModeFeedback'],
        [
          Mode.OPERATOR,
          AutomaticSource.AGENT,
          Issuer_Kind.USER,
          'alice',
          expect.stringMatching(/hot spot check$/),
          'ModeFeedback',
        ],
        [
          Mode.AUTOMATIC,
          AutomaticSource.FALLBACK,
          Issuer_Kind.USER,
          'bob',
          'model under review',
          'ModeFeedback',
        ],
      ]);
      now += 60_000;
      await publishReadings();
      const report = await agent.cycle();
      expect(report.source).toBe('fallback');
      await until(() => commands.length > sent);
      expect(commands.at(-1)?.issuer?.kind).toBe(Issuer_Kind.FALLBACK_CONTROLLER);
    });

    it.each([
      ['its back-pressure', 'PCV-201', 6, 'bar'],
      ['a pump named by its target-value reading', 'MFC-201.SP', 300, 'NmL/min'],
    ])("ends Automatic on an operator's setpoint of %s (%s)", async (_what, tag, value, unit) => {
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      await agent.cycle();
      const command = create(SetpointCommandSchema, {
        commandId: `operator-${tag}`,
        location: { site, cell: 'cell', step: 'hydrogenation', device: 'hydrogenation-module' },
        targetTag: tag,
        value,
        unit,
        issuer: { kind: Issuer_Kind.USER, id: 'carol' },
        reason: 'manual check',
        issuedAt: timestampFromMs(now),
        deadline: timestampFromMs(now + 60_000),
      });
      await bus.publish(topic('setpoints'), [encodeEvent(setpointCommandCodec, tag, command)]);
      await until(() => agent.mode === 'operator');
      const change = agent.modeLog.at(-1);
      expect([change?.mode, change?.by]).toEqual(['operator', 'user:carol']);
      expect(change?.reason).toMatch(/manual check$/);
      expect((await agent.cycle()).commands).toBe(0);
    });

    it('sends nothing from a cycle whose policy was still running when the operator took the step', async () => {
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      const cycle = agent.cycle(); // the policy runs (ONNX inference resolves later)…
      agent.setMode('operator', 'user:alice', 'sampling for the lab', 'agent'); // …the operator wins
      const report = await cycle;
      expect(report.source).toBe('agent'); // the policy did decide, after the switch
      expect(report.commands).toBe(0);
      expect((await agent.cycle()).commands).toBe(0);
      await until(() => statuses.length >= 2);
      expect(commands).toHaveLength(0);
    });

    it('loads a new model without a restart, and keeps the old one when the new does not fit', async () => {
      const first = agent.modelVersion;
      // A later file time, as a deployment that replaces the files would give.
      await new Promise((r) => setTimeout(r, 20));
      const second = writeTestPolicy(dir, space, 2);
      expect(await agent.reloadModel()).toBe(true);
      expect(agent.modelVersion).toBe(second);
      expect(second).not.toBe(first);
      await new Promise((r) => setTimeout(r, 20));
      writeTestPolicy(dir, space, 3, { step: 'nitration' });
      expect(await agent.reloadModel()).toBe(false);
      expect(agent.modelVersion).toBe(second);
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      await agent.cycle();
      await until(() => commands.length > 0);
      expect(commands.every((c) => c.issuer?.modelVersion === second)).toBe(true);
    });

    it('sends a malformed sensor event to the dead-letter topic and goes on', async () => {
      await bus.publish(topic('sensors'), [
        {
          key: 'x',
          value: Uint8Array.of(0xff, 0xff, 0xff),
          headers: { 'pipac-type': 'pipac.v1.SensorReading' },
        },
      ]);
      await until(() => deadLetters.length === 1);
      expect(deadLetters[0]!.headers['pipac-dead-letter-code']).toBeDefined();
      await publishReadings();
      agent.setMode('automatic', 'test', 'start');
      expect((await agent.cycle()).source).toBe('agent');
    });
  });
}
