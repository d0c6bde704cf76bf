import { explainListen } from '@pipac/config';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Telemetry } from '@pipac/telemetry';
import { KafkaBus } from '@pipac/bus';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { loadAgentConfig } from './app/agent.config';
import { StepAgentModule } from './app/step-agent.module';

/**
 * `step-agent <config.yaml>`: runs one step's agent on Kafka, with health endpoints for the
 * probes, until SIGINT or SIGTERM. PIPAC_KAFKA_BROKERS overrides the brokers of the file.
 */
async function main(argv: string[]): Promise<void> {
  const path = argv[0];
  if (!path || argv.length > 1) throw new Error('usage: step-agent <config.yaml>');
  const config = loadAgentConfig(path);
  // Before the service builds its instruments: they bind to the providers it registers.
  const telemetry = await Telemetry.start(config.telemetry);
  process.once('beforeExit', () => void telemetry.shutdown());
  const model = compilePlant(loadRecipe(config.recipe));
  const app = await NestFactory.create(
    StepAgentModule.forRoot({
      site: config.site,
      cell: config.cell,
      step: config.step,
      model,
      modelsDir: config.models,
      mode: config.mode,
      shadow: config.shadow,
      cycleMs: config.cycleSeconds * 1000,
      modelPollMs: config.modelPollSeconds * 1000,
      bus: new KafkaBus({ brokers: config.kafkaBrokers, clientId: `step-agent.${config.step}` }),
    }),
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app
    .listen(config.http.port, config.http.host)
    .catch((error: unknown) => Promise.reject(explainListen(error, path)));
  process.stderr.write(
    `step-agent: ${config.step} on Kafka ${config.kafkaBrokers.join(',')}; health on ${await app.getUrl()}/health\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`step-agent: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
