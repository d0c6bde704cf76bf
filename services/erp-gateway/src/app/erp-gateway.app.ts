import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErpGatewayModule } from './erp-gateway.module';
import type { ErpGatewayOptions } from './gateway-options';
import { BODY_LIMIT_BYTES, jsonBodiesOnly, jsonBodyShape } from './http/json-body';
import { requestMetrics } from './http/request-metrics';

/** Every REST path starts here; the version is in the path so v2 can run beside v1. */
export const API_PREFIX = 'api/v1';

export interface ErpGatewayApp {
  app: NestExpressApplication;
  openapi: OpenAPIObject;
}

/**
 * Builds the gateway as a Nest application (not listening yet): the REST API under /api/v1,
 * its OpenAPI 3 document at /api/v1/openapi.json and a browsable one at /api/v1/docs, the
 * probes at /health.
 */
export async function createErpGateway(
  options: ErpGatewayOptions,
  nest: { logger?: false | ('error' | 'warn' | 'log')[] } = {},
): Promise<ErpGatewayApp> {
  const app = await NestFactory.create<NestExpressApplication>(ErpGatewayModule.forRoot(options), {
    logger: nest.logger ?? ['error', 'warn'],
    bodyParser: false,
  });
  // JSON bodies only (415 for any other type), small (413) and shallow (400): an order is a
  // few hundred bytes.
  app.use(requestMetrics());
  app.use(jsonBodiesOnly());
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: true });
  app.use(jsonBodyShape());
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready'] });
  app.enableShutdownHooks();
  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('pipac ERP gateway')
      .setDescription(
        'Production orders (ISA-95 request states), lots and genealogy, production performance, batch records, ' +
          'operator mode and setpoint requests, model deployment, and webhooks for order events. ' +
          'Every call needs an API key (Authorization: Bearer <key> or X-API-Key) or, where single sign-on is ' +
          "configured, an access token from the plant's OpenID provider (Authorization: Bearer <JWT>). Errors " +
          'are RFC 9457 problem details (application/problem+json) naming the fields at fault.',
      )
      .setVersion('1')
      .addApiKey(
        { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key' },
        'apiKey',
      )
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description:
            "an API key, or an OpenID Connect access token (a JWT) from the plant's provider where single sign-on is configured",
        },
        'bearer',
      )
      .build(),
  );
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, openapi, {
    jsonDocumentUrl: `${API_PREFIX}/openapi.json`,
    useGlobalPrefix: false,
  });
  return { app, openapi };
}
