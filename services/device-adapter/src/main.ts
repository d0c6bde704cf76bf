import { explainListen } from '@pipac/config';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Telemetry } from '@pipac/telemetry';
import { KafkaBus } from '@pipac/bus';
import { routeNodeOpcuaWarnings } from '@pipac/opcua';
import { loadAdapterConfig } from './app/adapter.config';
import { DeviceAdapterModule } from './app/device-adapter.module';

/**
 * `device-adapter <config.yaml>`: bridges one device's OPC UA server and Kafka, with health
 * endpoints for the probes, until SIGINT or SIGTERM. Secrets come from the environment:
 * PIPAC_OPCUA_PASSWORD, and PIPAC_KAFKA_BROKERS overrides the brokers of the file.
 */
async function main(argv: string[]): Promise<void> {
  const path = argv[0];
  if (!path || argv.length > 1) throw new Error('usage: device-adapter <config.yaml>');
  const config = loadAdapterConfig(path);
  // Before the service builds its instruments: they bind to the providers it registers.
  const telemetry = await Telemetry.start(config.telemetry);
  process.once('beforeExit', () => void telemetry.shutdown());
  routeNodeOpcuaWarnings();
  const password = process.env['PIPAC_OPCUA_PASSWORD'];
  const app = await NestFactory.create(
    DeviceAdapterModule.forRoot({
      site: config.site,
      cell: config.cell,
      step: config.step,
      nodeMap: config.nodeMap,
      bus: new KafkaBus({
        brokers: config.kafkaBrokers,
        clientId: `device-adapter.${config.nodeMap.device}`,
        topics: config.topics,
      }),
      opcua: {
        securityMode: config.opcua.securityMode,
        securityPolicy: config.opcua.securityPolicy,
        pkiFolder: config.opcua.pkiFolder,
        acceptUnknownCertificates: config.opcua.acceptUnknownCertificates,
        ...(config.opcua.certificateFile && config.opcua.privateKeyFile
          ? {
              certificateFile: config.opcua.certificateFile,
              privateKeyFile: config.opcua.privateKeyFile,
            }
          : {}),
        publishingIntervalMs: config.opcua.publishingIntervalMs,
        heartbeatTimeoutMs: config.opcua.heartbeatTimeoutMs,
        ...(config.opcua.username && password
          ? { user: { username: config.opcua.username, password } }
          : {}),
      },
      stateDir: config.stateDir,
      spoolMaxBytes: config.spoolMaxBytes,
      memoryLimit: config.memoryLimit,
    }),
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app
    .listen(config.http.port, config.http.host)
    .catch((error: unknown) => Promise.reject(explainListen(error, path)));
  process.stderr.write(
    `device-adapter: ${config.nodeMap.device} at ${config.nodeMap.endpointUrl} ↔ Kafka ${config.kafkaBrokers.join(',')}; health on ${await app.getUrl()}/health\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`device-adapter: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
