import { createServer, type Server } from 'node:http';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { findWorkspace } from '@pipac/config';
import { startProcessMetrics } from './process-metrics';
import { TelemetryError } from './telemetry.error';

export interface TelemetryOptions {
  /** `service.name` of the traces, and the `service` label of the platform metrics. */
  serviceName: string;
  /** @default the package version */
  serviceVersion?: string;
  /**
   * The Prometheus endpoint (`GET /metrics`): its own HTTP server, so the metrics port can be
   * opened to the monitoring namespace alone. `false`: none. @default { host: '0.0.0.0', port: 9464 }
   */
  prometheus?: { host?: string; port?: number } | false;
  /**
   * OTLP over HTTP to a collector: traces and, if asked, metrics. Off unless an endpoint is
   * given here or in OTEL_EXPORTER_OTLP_ENDPOINT.
   */
  otlp?: { endpoint?: string; traces?: boolean; metrics?: boolean; metricsIntervalMs?: number };
  /** Share of new traces recorded (a reading starts one); children follow their parent. @default 1 */
  sampleRatio?: number;
  /** More span processors (tests: an in-memory exporter; the benchmark: a counting one). */
  spanProcessors?: SpanProcessor[];
  /** More metric readers. */
  metricReaders?: IMetricReader[];
  env?: NodeJS.ProcessEnv;
}

/**
 * OpenTelemetry for one process: the Node SDK with a Prometheus endpoint, optional OTLP
 * export, W3C trace-context propagation, and the process metrics. Start it before the service
 * builds its instruments (`pipacMetrics()`): until then every instrument and span is the
 * API's no-op, which is also what "telemetry off" is. One per process: the SDK registers the
 * global providers, and a second start is refused.
 *
 * The SDK is configured here, not from OTEL_* variables, so an unset variable never turns on
 * an exporter that sends to a default address (the SDK's default for traces and logs is OTLP
 * to localhost); only OTEL_EXPORTER_OTLP_ENDPOINT is honoured, as the collector's address.
 */
export class Telemetry {
  private static running: Telemetry | undefined;

  private constructor(
    private readonly sdk: NodeSDK,
    private readonly endpoint: Server | undefined,
    private readonly stopProcessMetrics: () => void,
    readonly serviceName: string,
  ) {}

  static async start(options: TelemetryOptions): Promise<Telemetry> {
    if (Telemetry.running) {
      throw new TelemetryError(
        'ALREADY_RUNNING',
        `telemetry already runs in this process (for ${Telemetry.running.serviceName})`,
      );
    }
    const env = options.env ?? process.env;
    const collector = (options.otlp?.endpoint ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'])?.replace(
      /\/$/,
      '',
    );
    const version = options.serviceVersion ?? VERSION;
    const scrape =
      options.prometheus === false
        ? undefined
        : { host: options.prometheus?.host ?? '0.0.0.0', port: options.prometheus?.port ?? 9464 };
    const readers: IMetricReader[] = [...(options.metricReaders ?? [])];
    // The exporter's own server takes port 0 for its default (9464): the endpoint is served
    // here instead, with the exporter's handler, so port 0 means any free port.
    const prometheus = scrape ? new PrometheusExporter({ preventServerStart: true }) : undefined;
    if (prometheus) readers.push(prometheus);
    if (collector && options.otlp?.metrics) {
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${collector}/v1/metrics` }),
          exportIntervalMillis: options.otlp.metricsIntervalMs ?? 15_000,
        }),
      );
    }
    const spanProcessors = [...(options.spanProcessors ?? [])];
    if (collector && (options.otlp?.traces ?? true)) {
      spanProcessors.push(
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector}/v1/traces` })),
      );
    }
    const sdk = new NodeSDK({
      serviceName: options.serviceName,
      resource: resourceFromAttributes({
        'service.version': version,
      }),
      autoDetectResources: false,
      metricReaders: readers,
      spanProcessors,
      sampler: new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1),
      }),
      logRecordProcessors: [],
      instrumentations: [],
    });
    sdk.start();
    let endpoint: Server | undefined;
    try {
      endpoint =
        prometheus && scrape ? await serveMetrics(prometheus, scrape.host, scrape.port) : undefined;
    } catch (error) {
      await sdk.shutdown();
      disableGlobals();
      throw error;
    }
    const stopProcessMetrics = startProcessMetrics(options.serviceName, version);
    const telemetry = new Telemetry(sdk, endpoint, stopProcessMetrics, options.serviceName);
    Telemetry.running = telemetry;
    return telemetry;
  }

  /** The Prometheus endpoint's address, or undefined without one. */
  get metricsUrl(): string | undefined {
    const address = this.endpoint?.address();
    if (!address || typeof address === 'string') return undefined;
    const host =
      address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host}:${address.port}/metrics`;
  }

  /** Flushes what is pending and unregisters the global providers. */
  async shutdown(): Promise<void> {
    this.stopProcessMetrics();
    await new Promise<void>((resolve) =>
      this.endpoint ? this.endpoint.close(() => resolve()) : resolve(),
    );
    await this.sdk.shutdown();
    disableGlobals();
    if (Telemetry.running === this) Telemetry.running = undefined;
  }
}

/** The workspace's version, for `service.version` and pipac_build_info. */
export const VERSION: string = findWorkspace()?.version ?? '0.0.0';

/** Unregisters the SDK's global providers: the API is back to its no-ops. */
function disableGlobals(): void {
  metrics.disable();
  trace.disable();
  propagation.disable();
  context.disable();
}

/** `GET /metrics` on its own HTTP server; a port in use fails start-up. */
function serveMetrics(exporter: PrometheusExporter, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new TelemetryError(
          'ENDPOINT_UNAVAILABLE',
          `the Prometheus endpoint could not listen on ${host}:${port}: ${error.message}` +
            ((error as NodeJS.ErrnoException).code === 'EADDRINUSE'
              ? " (another process has that port: give this one its own, telemetry.prometheus.port in a service's file or --metrics of pipac start; port 0 takes any free one)"
              : ''),
          { cause: error },
        ),
      ),
    );
    server.listen(port, host, () => resolve(server.unref()));
  });
}
