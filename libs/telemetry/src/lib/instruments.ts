import {
  metrics,
  type BatchObservableCallback,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type ObservableCounter,
  type ObservableGauge,
} from '@opentelemetry/api';
import type { MetricSpec } from './metric-catalogue';

/**
 * Instruments built from the catalogue (metric-catalogue.ts), so a name, its help and its
 * buckets are written once. Build them after Telemetry.start: before it (or without it) the
 * API hands out no-op instruments, which cost a function call and nothing else.
 */
function meter(): Meter {
  return metrics.getMeter('pipac');
}

export function counter(spec: MetricSpec & { kind: 'counter' }): Counter {
  return meter().createCounter(spec.name, { description: spec.help });
}

export function gauge(spec: MetricSpec & { kind: 'gauge' }): Gauge {
  return meter().createGauge(spec.name, { description: spec.help });
}

export function histogram(spec: MetricSpec & { kind: 'histogram' }): Histogram {
  return meter().createHistogram(spec.name, {
    description: spec.help,
    ...(spec.buckets ? { advice: { explicitBucketBoundaries: [...spec.buckets] } } : {}),
  });
}

export function observableGauge(spec: MetricSpec & { kind: 'gauge' }): ObservableGauge {
  return meter().createObservableGauge(spec.name, { description: spec.help });
}

/** A counter whose total its owner already keeps (read at scrape time). */
export function observableCounter(spec: MetricSpec & { kind: 'counter' }): ObservableCounter {
  return meter().createObservableCounter(spec.name, { description: spec.help });
}

/**
 * Observes gauges at scrape time with one callback (values read from the owner's state, so
 * the hot path records nothing). Returns a function that stops observing.
 */
export function observe(gauges: ObservableGauge[], callback: BatchObservableCallback): () => void {
  const m = meter();
  m.addBatchObservableCallback(callback, gauges);
  return () => m.removeBatchObservableCallback(callback, gauges);
}
