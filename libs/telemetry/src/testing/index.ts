import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Telemetry, type TelemetryOptions } from '../lib/telemetry';

export interface TestTelemetry {
  telemetry: Telemetry;
  /** Every span ended so far. */
  spans: InMemorySpanExporter;
  /** One scrape of the Prometheus endpoint, as text. */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * Telemetry for a test: the real SDK and Prometheus endpoint (on a free port), spans kept in
 * memory. One per process at a time: shut it down in afterAll.
 */
export async function startTestTelemetry(
  options: Partial<TelemetryOptions> = {},
): Promise<TestTelemetry> {
  const spans = new InMemorySpanExporter();
  const telemetry = await Telemetry.start({
    serviceName: 'test',
    prometheus: { host: '127.0.0.1', port: 0 },
    ...options,
    spanProcessors: [new SimpleSpanProcessor(spans), ...(options.spanProcessors ?? [])],
  });
  return {
    telemetry,
    spans,
    scrape: async () => {
      const response = await fetch(telemetry.metricsUrl!);
      return response.text();
    },
    shutdown: () => telemetry.shutdown(),
  };
}
