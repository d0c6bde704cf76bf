import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InProcessBus, encodeEvent } from '@pipac/bus';
import { StepSpace, tuneConversionPid } from '@pipac/control';
import { sensorReadingCodec, topicName } from '@pipac/contracts';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { stepSensorReadings, writeTestPolicy } from '../testing/step-fixtures';
import { StepAgentModule } from './step-agent.module';

describe('StepAgentModule (Nest application with health endpoints)', () => {
  const model = compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')));
  const space = new StepSpace(model, 'nitration');
  let dir: string;
  let bus: InProcessBus;
  let app: INestApplication;
  let url: string;
  let version: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-agent-nest-'));
    version = writeTestPolicy(dir, space, 4);
    bus = new InProcessBus();
    app = await NestFactory.create(
      StepAgentModule.forRoot({
        site: 'site',
        cell: 'cell',
        step: 'nitration',
        model,
        bus,
        modelsDir: dir,
        fallbackTuning: tuneConversionPid(model, 'nitration'),
        autoCycle: false,
        modelPollMs: 0,
        log: () => undefined,
      }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is live at once, and ready, with its mode and model, once its sensors report', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    const readings = stepSensorReadings(space, Date.now());
    await bus.publish(
      topicName({ site: 'site', cell: 'cell', step: 'nitration', stream: 'sensors' }),
      readings.map((r) => encodeEvent(sensorReadingCodec, r.tag, r)),
    );
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { info: Record<string, Record<string, unknown>> };
    expect(body.info['step:nitration']).toMatchObject({
      status: 'up',
      mode: 'operator',
      modelVersion: version,
      readings: readings.length,
    });
  });
});
