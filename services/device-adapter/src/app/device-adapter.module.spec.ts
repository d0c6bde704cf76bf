import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { InProcessBus } from '@pipac/bus';
import { DeviceServer, describePlantDevices } from '@pipac/opcua';
import { freePort, recipePlant } from '@pipac/opcua/testing';
import { DeviceAdapterModule } from './device-adapter.module';

const USER = { username: 'adapter', password: 'health check' };

describe('DeviceAdapterModule (Nest application with health endpoints)', () => {
  let dir: string;
  let server: DeviceServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-nest-'));
    server = await DeviceServer.start({
      devices: describePlantDevices(recipePlant()),
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
    });
    app = await NestFactory.create(
      DeviceAdapterModule.forRoot({
        site: 'site',
        cell: 'cell',
        step: 'nitration',
        nodeMap: server.nodeMap('nitration-module'),
        bus: new InProcessBus(),
        opcua: {
          pkiFolder: join(dir, 'client-pki'),
          acceptUnknownCertificates: true,
          user: USER,
          heartbeatTimeoutMs: 1000,
          reconnectMaxDelayMs: 500,
        },
        stateDir: join(dir, 'state'),
        spoolSync: false,
      }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await server?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is live, and ready while the device is connected and its heartbeat runs', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      info: Record<string, { status: string; connected: boolean }>;
    };
    expect(body.info['device:nitration-module']).toMatchObject({ status: 'up', connected: true });
  });

  it('is not ready, with the reason, once the device server is gone', async () => {
    await server.stop();
    const deadline = Date.now() + 15_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await fetch(`${url}/health/ready`)).status;
    }
    expect(status).toBe(503);
    const body = (await (await fetch(`${url}/health/ready`)).json()) as {
      error: Record<string, { status: string; connected: boolean; heartbeat: boolean }>;
    };
    expect(body.error['device:nitration-module']?.status).toBe('down');
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  }, 30_000);
});
