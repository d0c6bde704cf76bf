import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthController } from '@pipac/telemetry/health';
import { Public } from './auth/roles';

/**
 * The shared probes (live; ready: the database answers a query, see DatabaseReadiness), open
 * without an API key and left out of the OpenAPI document.
 */
@ApiExcludeController()
@Public()
@Controller('health')
export class GatewayHealthController extends HealthController {}
