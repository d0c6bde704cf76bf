import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { METRICS, histogram } from '@pipac/telemetry';

/**
 * Express middleware timing every request to its response's end, labelled by the route
 * template Express matched (`/api/v1/orders/:id`, never the id itself: no order ids as
 * labels) and the status code; a path no route matched is `unmatched`.
 */
export function requestMetrics(): (
  request: Request,
  response: Response,
  next: NextFunction,
) => void {
  const duration = histogram(METRICS.httpRequestDuration);
  return (request, response, next) => {
    const started = performance.now();
    response.on('finish', () => {
      const route = (request.route as { path?: string } | undefined)?.path;
      duration.record((performance.now() - started) / 1000, {
        method: request.method,
        route: route ? `${request.baseUrl}${route}` : 'unmatched',
        status_code: String(response.statusCode),
      });
    });
    next();
  };
}
