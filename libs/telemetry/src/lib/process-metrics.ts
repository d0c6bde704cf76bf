import { monitorEventLoopDelay } from 'node:perf_hooks';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { METRICS } from './metric-catalogue';

/**
 * The platform metrics every process exports: build info, memory, CPU and event-loop delay
 * (what a timer or a message waits for the CPU: the first suspect when loop latency grows).
 * Observed at scrape time; the event-loop histogram is reset at each observation, so its p99
 * covers the last scrape interval. Returns a function that stops them.
 */
export function startProcessMetrics(service: string, version = '0.0.0'): () => void {
  const meter = metrics.getMeter('pipac');
  const labels = { service };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const build = meter.createObservableGauge(METRICS.buildInfo.name, {
    description: METRICS.buildInfo.help,
  });
  const rss = meter.createObservableGauge(METRICS.processResidentMemory.name, {
    description: METRICS.processResidentMemory.help,
    unit: 'By',
  });
  const heap = meter.createObservableGauge(METRICS.processHeapUsed.name, {
    description: METRICS.processHeapUsed.help,
    unit: 'By',
  });
  const cpu = meter.createObservableCounter(METRICS.processCpu.name, {
    description: METRICS.processCpu.help,
    unit: 's',
  });
  const loop = meter.createObservableGauge(METRICS.eventLoopDelay.name, {
    description: METRICS.eventLoopDelay.help,
    unit: 's',
  });
  const observables = [build, rss, heap, cpu, loop];
  const callback: BatchObservableCallback = (result) => {
    const memory = process.memoryUsage();
    const usage = process.cpuUsage();
    result.observe(build, 1, { ...labels, version, nodejs_version: process.versions.node });
    result.observe(rss, memory.rss, labels);
    result.observe(heap, memory.heapUsed, labels);
    result.observe(cpu, (usage.user + usage.system) / 1e6, labels);
    // NaN before the first sample (a histogram that saw nothing reports a huge minimum).
    if (delay.count > 0) result.observe(loop, delay.percentile(99) / 1e9, labels);
    delay.reset();
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    delay.disable();
  };
}
