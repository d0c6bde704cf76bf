import { explainListen } from '@pipac/config';
import 'reflect-metadata';
import { KafkaBus } from '@pipac/bus';
import { Telemetry } from '@pipac/telemetry';
import { Database, loadAuditKeys, parseDatabaseUrl } from '@pipac/persistence';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { createErpGateway } from './app/erp-gateway.app';
import { loadGatewayConfig } from './app/gateway.config';

/**
 * `erp-gateway <config.yaml>`: the REST API for the ERP, operators and engineers, on Kafka and
 * the cell database, until SIGINT or SIGTERM. PIPAC_KAFKA_BROKERS and PIPAC_DATABASE_URL
 * override the file.
 */
async function main(argv: string[]): Promise<void> {
  const path = argv[0];
  if (!path || argv.length > 1) throw new Error('usage: erp-gateway <config.yaml>');
  const config = loadGatewayConfig(path);
  // Before the service builds its instruments: they bind to the providers it registers.
  const telemetry = await Telemetry.start(config.telemetry);
  process.once('beforeExit', () => void telemetry.shutdown());
  const model = compilePlant(loadRecipe(config.recipe));
  // The audit signing key is read once, at start (a rotated key takes a restart).
  const db = await Database.open(parseDatabaseUrl(config.database), {
    ...(config.audit ? { audit: loadAuditKeys(config.audit.keys, { create: false }) } : {}),
  });
  if (!config.audit) {
    process.stderr.write('erp-gateway: no audit keys configured: audit entries are not signed\n');
  }
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: `erp-gateway.${config.cell}`,
  });
  await bus.connect();
  const { app } = await createErpGateway({
    site: config.site,
    cell: config.cell,
    steps: model.steps.map((s) => s.id),
    recipe: model.recipe.metadata.name,
    product: model.speciesIds[model.productIndex]!,
    db,
    bus,
    modelsDir: config.models,
    webhooks: config.webhooks,
    oidc: config.oidc,
    plant: model,
  });
  app.enableShutdownHooks();
  process.once('beforeExit', () => void Promise.all([db.close(), bus.disconnect()]));
  await app
    .listen(config.http.port, config.http.host)
    .catch((error: unknown) => Promise.reject(explainListen(error, path)));
  process.stderr.write(
    `erp-gateway: ${config.cell} on Kafka ${config.kafkaBrokers.join(',')}, ${db.config.type} database; ` +
      `API on ${await app.getUrl()}/api/v1 (OpenAPI: /api/v1/openapi.json); ` +
      (config.oidc ? `API keys and access tokens from ${config.oidc.issuer}\n` : 'API keys\n'),
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`erp-gateway: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
