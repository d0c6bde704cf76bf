import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { InProcessBus } from '@pipac/bus';
import { scratchSqlite } from '@pipac/persistence/testing';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { CoordinatorModule, CoordinatorService } from './coordinator.module';

describe('CoordinatorModule', () => {
  it('runs the coordinator in a Nest application with its probes', async () => {
    const scratch = scratchSqlite();
    const db = await scratch.open();
    const app = await NestFactory.create(
      CoordinatorModule.forRoot({
        site: 'site',
        cell: 'cell-1',
        model: compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml'))),
        bus: new InProcessBus(),
        db,
        autoCycle: false,
      }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    // Not ready before a cycle, nor while a tank's level is unknown (it says which).
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    await app.get(CoordinatorService).instance!.cycle();
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain(
      'no level reading yet from tank-1.LI, tank-2.LI',
    );
    await app.close();
    await scratch.dispose();
  });
});
