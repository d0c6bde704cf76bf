import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus, encodeEvent, subscribeEvents, type BusMessage } from '@pipac/bus';
import { StepSpace, tuneConversionPid } from '@pipac/control';
import {
  deadLetterTopic,
  sensorReadingCodec,
  setpointCommandCodec,
  topicName,
} from '@pipac/contracts';
import { REWARD_WEIGHTS } from '@pipac/rl';
import { inSpan } from '@pipac/telemetry';
import { startTestTelemetry, type TestTelemetry } from '@pipac/telemetry/testing';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { stepSensorReadings, until, writeTestPolicy } from '../testing';
import { MEASURED_REWARD_WEIGHTS } from './agent-telemetry';
import { StepAgent } from './step-agent';

const model = compilePlant(
  loadRecipe(join(__dirname, '..', '..', '..', '..', 'recipes', 'paracetamol.yaml')),
);
const space = new StepSpace(model, 'hydrogenation');

describe('StepAgent telemetry', () => {
  jest.setTimeout(60_000);
  let t: TestTelemetry;
  let dir: string;
  const bus = new InProcessBus();
  const site = 'telemetry';
  const topic = (stream: 'sensors' | 'setpoints') =>
    topicName({ site, cell: 'cell', step: 'hydrogenation', stream });

  beforeAll(async () => {
    t = await startTestTelemetry({ serviceName: 'step-agent' });
    dir = mkdtempSync(join(tmpdir(), 'pipac-agent-telemetry-'));
    writeTestPolicy(dir, space, 1);
    await bus.connect();
  });
  afterAll(async () => {
    await bus.disconnect();
    await t.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the terms of the reward it was trained on, with the same weights', () => {
    for (const [term, weight] of Object.entries(MEASURED_REWARD_WEIGHTS)) {
      expect(REWARD_WEIGHTS[term as keyof typeof REWARD_WEIGHTS]).toBe(weight);
    }
  });

  it('continues the trace of the readings it acts on, and exports its figures', async () => {
    const now = Date.UTC(2026, 10, 29, 8);
    const agent = await StepAgent.start({
      site,
      cell: 'cell',
      step: 'hydrogenation',
      model,
      bus,
      modelsDir: dir,
      fallbackTuning: tuneConversionPid(model, 'hydrogenation'),
      mode: 'automatic',
      autoCycle: false,
      modelPollMs: 0,
      clock: () => now,
      log: () => undefined,
    });
    const commands: BusMessage[] = [];
    await subscribeEvents(bus, {
      group: 'test-setpoints',
      topic: topic('setpoints'),
      codec: setpointCommandCodec,
      deadLetterTopic: deadLetterTopic(site, 'cell'),
      fromBeginning: true,
      handler: async (_command, message) => void commands.push(message),
    });
    let readingTrace = '';
    const readings = stepSensorReadings(space, now);
    await inSpan('opcua.notification', {}, async (span) => {
      readingTrace = span.spanContext().traceId;
      await bus.publish(
        topic('sensors'),
        readings.map((r) =>
          encodeEvent(sensorReadingCodec, r.tag, { ...r, location: { ...r.location!, site } }),
        ),
      );
    });
    await until(() => agent.stats.readings >= readings.length);
    const report = await agent.cycle();
    expect(report.commands).toBeGreaterThan(0);
    await until(() => commands.length >= report.commands);

    const cycle = t.spans.getFinishedSpans().find((s) => s.name === 'step.cycle')!;
    expect(cycle.spanContext().traceId).toBe(readingTrace);
    for (const command of commands) {
      expect(command.headers['traceparent']).toContain(`-${readingTrace}-`);
    }

    const text = await t.scrape();
    const value = (pattern: string) => {
      const match = new RegExp(`^${pattern}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
      return match ? Number(match[1]) : Number.NaN;
    };
    expect(value('pipac_step_conversion_ratio')).toBeCloseTo(space.step.minConversion + 0.02, 6);
    expect(value('pipac_step_conversion_spec_ratio')).toBe(space.step.minConversion);
    // One age and one limit per gated input: the hot spot (30 s) and the analyser's conversion
    // (its dead time and three sampling intervals).
    const limits = [
      ...text.matchAll(/^pipac_step_input_age_limit_seconds\{[^}]*input="([^"]+)"[^}]*\} (\S+)$/gm),
    ];
    const analyser = space.step.spec.analyser!;
    expect(limits.map((m) => Number(m[2])).sort((a, b) => a - b)).toEqual(
      [30, analyser.deadTime + 3 * analyser.cadence].sort((a, b) => a - b),
    );
    const tags = new Set(readings.map((r) => r.tag));
    for (const [, input] of limits) {
      expect(tags.has(input!)).toBe(true);
      expect(text).toMatch(
        new RegExp(`^pipac_step_input_age_seconds\\{[^}]*input="${input}"[^}]*\\} \\S+$`, 'm'),
      );
    }
    expect(value('pipac_step_yield_ratio')).toBeGreaterThan(0);
    expect(value('pipac_step_yield_ratio')).toBeLessThanOrEqual(1);
    expect(Number.isFinite(value('pipac_step_reward'))).toBe(true);
    expect(text).toMatch(/^pipac_step_mode\{step="hydrogenation",mode="automatic"[^}]*\} 1$/m);
    expect(text).toMatch(/^pipac_step_mode\{step="hydrogenation",mode="operator"[^}]*\} 0$/m);
    expect(text).toMatch(
      /^pipac_step_decision_source\{step="hydrogenation",source="agent"[^}]*\} 1$/m,
    );
    expect(text).toContain(`model_version="${agent.modelVersion}"`);
    expect(text).toMatch(
      /^pipac_step_setpoint_moves_total\{step="hydrogenation",tag="[^"]+",source="agent"[^}]*\} 1$/m,
    );
    expect(text).toMatch(
      /^pipac_step_cycle_duration_seconds_count\{step="hydrogenation"[^}]*\} 1$/m,
    );
    await agent.stop();
  });
});
