import { explainListen } from '@pipac/config';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Telemetry } from '@pipac/telemetry';
import { KafkaBus } from '@pipac/bus';
import {
  AuditHeadExporter,
  AuditTrail,
  Database,
  loadAuditKeys,
  parseDatabaseUrl,
} from '@pipac/persistence';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { loadCoordinatorConfig } from './app/coordinator.config';
import { CoordinatorModule } from './app/coordinator.module';

/**
 * `coordinator <config.yaml>`: balances the cell's steps, runs the orders and keeps the audit
 * trail, on Kafka and the cell database, with health endpoints, until SIGINT or SIGTERM.
 * PIPAC_KAFKA_BROKERS and PIPAC_DATABASE_URL override the file.
 */
async function main(argv: string[]): Promise<void> {
  const path = argv[0];
  if (!path || argv.length > 1) throw new Error('usage: coordinator <config.yaml>');
  const config = loadCoordinatorConfig(path);
  // Before the service builds its instruments: they bind to the providers it registers.
  const telemetry = await Telemetry.start(config.telemetry);
  process.once('beforeExit', () => void telemetry.shutdown());
  const model = compilePlant(loadRecipe(config.recipe));
  // The signing key is read once, at start (a rotated key takes a restart).
  const db = await Database.open(parseDatabaseUrl(config.database), {
    ...(config.audit ? { audit: loadAuditKeys(config.audit.keys, { create: false }) } : {}),
  });
  if (!config.audit) {
    process.stderr.write('coordinator: no audit keys configured: audit entries are not signed\n');
  }
  if (config.audit?.head) {
    // The signed head, published outside the database every 10 s and at shutdown.
    const head = new AuditHeadExporter(new AuditTrail(db), config.audit.head).every(10_000, (e) =>
      process.stderr.write(`coordinator: audit head: ${String(e)}\n`),
    );
    process.once('SIGTERM', () => void head.stop());
  }
  const app = await NestFactory.create(
    CoordinatorModule.forRoot({
      site: config.site,
      cell: config.cell,
      model,
      db,
      bus: new KafkaBus({ brokers: config.kafkaBrokers, clientId: `coordinator.${config.cell}` }),
      cycleMs: config.cycleSeconds * 1000,
    }),
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app
    .listen(config.http.port, config.http.host)
    .catch((error: unknown) => Promise.reject(explainListen(error, path)));
  process.stderr.write(
    `coordinator: ${config.cell} on Kafka ${config.kafkaBrokers.join(',')}, ${db.config.type} database; ` +
      `health on ${await app.getUrl()}/health\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`coordinator: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
