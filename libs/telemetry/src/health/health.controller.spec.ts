import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { readinessProviders, type Readiness, type ReadinessIndicator } from './readiness';

let up = true;

@Injectable()
class ToggledReadiness implements ReadinessIndicator {
  async readiness(): Promise<Readiness> {
    return { key: 'thing', up, details: { up } };
  }
}

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: readinessProviders(ToggledReadiness),
})
class ProbedModule {}

describe('HealthController (shared probes)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(ProbedModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  it('answers live with 200 and ready by the indicators, 503 with details when one is down', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);

    up = true;
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { thing: { status: 'up', up: true } },
    });

    up = false;
    const down = await fetch(`${url}/health/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'error',
      error: { thing: { status: 'down', up: false } },
    });
  });
});
