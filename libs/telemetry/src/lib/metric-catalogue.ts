/**
 * Every metric pipac exports, in one place: the services record them, the Grafana dashboards
 * and alert rules (helm/pipac/files) query them, and a test checks that both agree.
 *
 * Names follow the Prometheus conventions (DESIGN.md): `pipac_` prefix, base units in the
 * name (seconds, liters, moles, grams; ratios 0..1), counters end in `_total` once exported
 * (the exporter appends it: the catalogue names them without), and no lot or order ids as
 * labels. Volumes and flows are in liters, the plant's unit, not cubic metres: 1 mL/min reads
 * as 1.67e-5 L/s, and Grafana shows it back in mL/min.
 */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** Prometheus name; counters without `_total`. */
  name: string;
  kind: MetricKind;
  help: string;
  /** Label names, in the order dashboards group by them. */
  labels: readonly string[];
  /** Histogram bucket bounds, in the metric's unit. */
  buckets?: readonly number[];
}

/** Latency buckets, seconds: 1 ms to 10 s (a control loop's hops are milliseconds). */
export const LATENCY_BUCKETS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
] as const;

function metric<const N extends string, const K extends MetricKind>(
  name: N,
  kind: K,
  help: string,
  labels: readonly string[],
  buckets?: readonly number[],
): MetricSpec & { name: N; kind: K } {
  return { name, kind, help, labels, ...(buckets ? { buckets } : {}) };
}

export const METRICS = {
  // ── step agent: one series set per reaction step ──────────────────────────────────────
  stepConversion: metric(
    'pipac_step_conversion_ratio',
    'gauge',
    "Conversion of the step's key reactant, measured by its inline analyser (0..1).",
    ['step'],
  ),
  stepYield: metric(
    'pipac_step_yield_ratio',
    'gauge',
    "Product leaving the step per key reactant fed, from the analyser's product concentration and the pump setpoints (0..1).",
    ['step'],
  ),
  stepProductionRate: metric(
    'pipac_step_production_rate_moles_per_second',
    'gauge',
    'Product leaving the step: outlet flow × measured product concentration.',
    ['step'],
  ),
  stepConversionSpec: metric(
    'pipac_step_conversion_spec_ratio',
    'gauge',
    "The conversion the step's specification requires: at or above it the step is in spec (0..1).",
    ['step'],
  ),
  stepInSpec: metric(
    'pipac_step_in_spec',
    'gauge',
    "1 while the step's measured conversion meets its specification, else 0.",
    ['step'],
  ),
  stepThroughputTarget: metric(
    'pipac_step_throughput_target_ratio',
    'gauge',
    "The coordinator's throughput target as a share of the recipe's nominal flow (0: paused).",
    ['step'],
  ),
  stepSetpoint: metric(
    'pipac_step_setpoint',
    'gauge',
    'The setpoint the step decided last, in the engineering unit named by the unit label.',
    ['step', 'tag', 'unit'],
  ),
  stepSetpointMoves: metric(
    'pipac_step_setpoint_moves',
    'counter',
    'Setpoint commands published, by tag and by who decided (agent or fallback).',
    ['step', 'tag', 'source'],
  ),
  stepShieldInterventions: metric(
    'pipac_step_shield_interventions',
    'counter',
    'Safety-shield interventions, by reason (clamp, move limit, stale input, process limit, fallback, …).',
    ['step', 'reason'],
  ),
  stepMode: metric(
    'pipac_step_mode',
    'gauge',
    'MTP operating mode: 1 for the mode the step is in (offline, operator, automatic), 0 for the others.',
    ['step', 'mode'],
  ),
  stepDecisionSource: metric(
    'pipac_step_decision_source',
    'gauge',
    'Who decided the last cycle: 1 for agent, fallback, hold or none, 0 for the others.',
    ['step', 'source'],
  ),
  stepReward: metric(
    'pipac_step_reward',
    'gauge',
    "The training reward's measurable terms for the last cycle: in-spec production up to the target, relative to nominal, less off-spec production and move and limit-proximity penalties.",
    ['step'],
  ),
  stepModelInfo: metric(
    'pipac_step_model_info',
    'gauge',
    'The deployed policy: 1, with its version as a label (empty: fallback only).',
    ['step', 'model_version'],
  ),
  stepCycles: metric('pipac_step_cycles', 'counter', 'Control cycles run.', ['step']),
  stepCycleDuration: metric(
    'pipac_step_cycle_duration_seconds',
    'histogram',
    'One control cycle: observation, policy (ONNX), safety shield, commands published.',
    ['step'],
    LATENCY_BUCKETS,
  ),
  stepReadings: metric('pipac_step_readings', 'counter', 'Sensor events taken in.', ['step']),
  stepLastCycle: metric(
    'pipac_step_last_cycle_timestamp_seconds',
    'gauge',
    'Wall-clock time the last control cycle ended (Unix seconds): a loop that stops while its process is up.',
    ['step'],
  ),
  stepInputAge: metric(
    'pipac_step_input_age_seconds',
    'gauge',
    "Age of each input the safety shield gates (the hot-spot temperature, the analyser's result) at the last cycle, in plant time.",
    ['step', 'input'],
  ),
  stepInputAgeLimit: metric(
    'pipac_step_input_age_limit_seconds',
    'gauge',
    'The oldest each gated input may be: past it the safety shield refuses the agent and the fallback controller decides.',
    ['step', 'input'],
  ),

  // ── device adapters: one series set per device ────────────────────────────────────────
  adapterReadings: metric(
    'pipac_adapter_readings',
    'counter',
    'OPC UA value changes received and published as sensor events.',
    ['step', 'device'],
  ),
  adapterLastReading: metric(
    'pipac_adapter_last_reading_timestamp_seconds',
    'gauge',
    'Wall-clock time of the last value change received from the device (Unix seconds).',
    ['step', 'device'],
  ),
  adapterWrites: metric(
    'pipac_adapter_writes',
    'counter',
    'Setpoint commands answered, by outcome (applied, refused_limits, refused_expired, failed, duplicate).',
    ['step', 'device', 'outcome'],
  ),
  adapterWriteDuration: metric(
    'pipac_adapter_write_duration_seconds',
    'histogram',
    'A setpoint command from receipt to its confirmation: checks, OPC UA write, read-back, journal.',
    ['step', 'device'],
    LATENCY_BUCKETS,
  ),
  adapterConnected: metric(
    'pipac_adapter_connected',
    'gauge',
    '1 while the OPC UA session to the device is up, else 0.',
    ['step', 'device'],
  ),
  adapterReconnects: metric(
    'pipac_adapter_reconnects',
    'counter',
    'OPC UA connections lost and re-established.',
    ['step', 'device'],
  ),
  adapterBufferDepth: metric(
    'pipac_adapter_buffer_depth_messages',
    'gauge',
    'Sensor events waiting to be published: in memory, or spooled to disk during a bus outage.',
    ['step', 'device', 'store'],
  ),
  adapterDropped: metric(
    'pipac_adapter_dropped_messages',
    'counter',
    'Sensor events dropped because the spool on disk was full.',
    ['step', 'device'],
  ),

  // ── coordinator ───────────────────────────────────────────────────────────────────────
  coordinatorCycles: metric('pipac_coordinator_cycles', 'counter', 'Balancing cycles run.', []),
  tankLevel: metric(
    'pipac_tank_level_liters',
    'gauge',
    'Surge tank level between two steps, from its level transmitter.',
    ['tank'],
  ),
  tankLevelBand: metric(
    'pipac_tank_level_band_liters',
    'gauge',
    "The lines a surge tank's level is steered between: the tank's min and max, the coordinator's guard levels (low, high) and its level setpoint.",
    ['tank', 'line'],
  ),
  coordinatorTargetFlow: metric(
    'pipac_coordinator_target_flow_liters_per_second',
    'gauge',
    'The outlet flow the coordinator asks of each step (0: paused).',
    ['step'],
  ),
  orderProgress: metric(
    'pipac_order_progress_ratio',
    'gauge',
    'In-spec product booked to the running order as a share of the ordered quantity (0 with no order running).',
    [],
  ),
  orderActive: metric(
    'pipac_order_active',
    'gauge',
    '1 while an order is being made, else 0 (tells "no order" from "an order at 0 %").',
    [],
  ),
  producedProduct: metric(
    'pipac_produced_product_grams',
    'counter',
    'Product booked to orders, in spec or not.',
    ['product', 'in_spec'],
  ),
  auditEntries: metric(
    'pipac_audit_entries',
    'counter',
    'Entries appended to the audit trail, by kind.',
    ['kind'],
  ),

  // ── erp gateway ───────────────────────────────────────────────────────────────────────
  httpRequestDuration: metric(
    'pipac_http_server_request_duration_seconds',
    'histogram',
    'REST requests served, by route template and status code.',
    ['method', 'route', 'status_code'],
    LATENCY_BUCKETS,
  ),
  webhookDeliveries: metric(
    'pipac_webhook_deliveries',
    'counter',
    'Webhook delivery attempts, by outcome (delivered, failed).',
    ['outcome'],
  ),

  // ── bus: every service ────────────────────────────────────────────────────────────────
  busConsumerLag: metric(
    'pipac_bus_consumer_lag_messages',
    'gauge',
    "Messages behind the end of the topic, per consumer group (Kafka: the fetch's offset lag; in-process: the queue).",
    ['service', 'group', 'topic'],
  ),
  busDeliveryLatency: metric(
    'pipac_bus_delivery_latency_seconds',
    'histogram',
    'From a message appended to its topic to its handler starting, per stream.',
    ['service', 'stream'],
    LATENCY_BUCKETS,
  ),
  busDeadLetters: metric(
    'pipac_bus_dead_letters',
    'counter',
    'Events that could not be decoded or failed validation, sent to the dead-letter topic.',
    ['service', 'stream', 'code'],
  ),
  errors: metric(
    'pipac_errors',
    'counter',
    'Errors a service handled without stopping (a handler that threw, a publish that failed), by kind.',
    ['service', 'kind'],
  ),

  // ── platform: every process ───────────────────────────────────────────────────────────
  buildInfo: metric(
    'pipac_build_info',
    'gauge',
    'The running version: 1, with the service, version and Node.js version as labels.',
    ['service', 'version', 'nodejs_version'],
  ),
  processResidentMemory: metric(
    'pipac_process_resident_memory_bytes',
    'gauge',
    'Resident set size of the process.',
    ['service'],
  ),
  processHeapUsed: metric('pipac_process_heap_used_bytes', 'gauge', 'V8 heap in use.', ['service']),
  processCpu: metric(
    'pipac_process_cpu_seconds',
    'counter',
    'CPU time used by the process (user and system).',
    ['service'],
  ),
  eventLoopDelay: metric(
    'pipac_nodejs_eventloop_delay_p99_seconds',
    'gauge',
    "The event loop's delay, 99th percentile over the last scrape interval: what a timer or a message waits for the CPU.",
    ['service'],
  ),
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** The name Prometheus stores: counters get `_total`. */
export function exportedName(spec: MetricSpec): string {
  return spec.kind === 'counter' ? `${spec.name}_total` : spec.name;
}

/** Every series name a scrape can hold: counters with `_total`, histograms' `_bucket`, `_sum`, `_count`. */
export function exportedSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const spec of Object.values(METRICS) as MetricSpec[]) {
    const base = exportedName(spec);
    names.add(base);
    if (spec.kind === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${spec.name}${suffix}`);
    }
  }
  return names;
}

/** Span names of the control loop's trace (one reading → decision → confirmed write). */
export const SPANS = {
  /** Device adapter: an OPC UA data-change notification, published as a sensor event. */
  reading: 'opcua.notification',
  /** Any consumer: one bus message handled (`<stream> process`, as the messaging conventions name it). */
  consume: (stream: string) => `${stream} process`,
  /** Step agent: one control cycle (observe, policy, shield, publish). */
  cycle: 'step.cycle',
  /** Device adapter: a setpoint command written to the device and read back. */
  write: 'opcua.write',
} as const;
