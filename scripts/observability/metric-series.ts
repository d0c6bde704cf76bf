/**
 * The series Prometheus holds for pipac, and the labels each carries: the metric catalogue of
 * @pipac/telemetry as the OpenTelemetry Prometheus exporter names it, plus Prometheus' own.
 */
import { exportedName, METRICS, type MetricSpec } from '@pipac/telemetry';

/** Labels on every pipac series: Prometheus' target labels and the OpenTelemetry scope. */
const TARGET_LABELS = ['job', 'instance'];
const SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url'];

/** Every series name a query may use, with the labels it carries. */
export function knownSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const spec of Object.values(METRICS) as MetricSpec[]) {
    const labels = [...spec.labels, ...TARGET_LABELS, ...SCOPE_LABELS];
    series.set(exportedName(spec), new Set(labels));
    if (spec.kind === 'histogram') {
      series.set(`${spec.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${spec.name}_sum`, new Set(labels));
      series.set(`${spec.name}_count`, new Set(labels));
    }
  }
  // Prometheus' own, per target.
  series.set('up', new Set(TARGET_LABELS));
  // The exporter's resource attributes (service.name → service_name …).
  series.set(
    'target_info',
    new Set([
      ...TARGET_LABELS,
      'service_name',
      'service_version',
      'service_namespace',
      'service_instance_id',
      'telemetry_sdk_language',
      'telemetry_sdk_name',
      'telemetry_sdk_version',
    ]),
  );
  return series;
}

/** Series rate() and increase() may see: counters and the parts of histograms. */
export function isCounterSeries(name: string): boolean {
  return /_(total|bucket|count|sum)$/.test(name);
}
