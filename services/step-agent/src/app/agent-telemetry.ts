import { performance } from 'node:perf_hooks';
import type { Intervention, StepReadings, StepSpace } from '@pipac/control';
import {
  METRICS,
  SPANS,
  counter,
  gauge,
  histogram,
  inSpan,
  observableGauge,
  observe,
  activeSpanContext,
  type SpanContext,
  type SpanOptions,
} from '@pipac/telemetry';

/**
 * The reward's weights, as trained (libs/rl REWARD_WEIGHTS; a test checks they agree): the
 * agent reports the terms it can measure, so an engineer sees in Grafana what it optimises.
 */
export const MEASURED_REWARD_WEIGHTS = { offSpec: 1, move: 0.05, limitProximity: 0.5 } as const;
/** Kelvin below the temperature limit where the proximity penalty starts (libs/rl). */
const TEMPERATURE_BAND = 5;

export interface AgentState {
  mode: 'offline' | 'operator' | 'automatic';
  source: 'agent' | 'fallback' | 'hold' | 'none';
  modelVersion: string;
}

export interface StepFigures {
  conversion: number;
  productionRate: number;
  inSpec: boolean;
  throughputTarget: number;
  readings: StepReadings | undefined;
  /** Age of each gated input, s (those the agent has had a value of). */
  inputs: readonly { tag: string; age: number }[];
}

/** An input the safety shield gates, and the oldest it may be, s. */
export interface InputGate {
  tag: string;
  maxAge: number;
}

/**
 * The step agent's metrics and spans (catalogue: libs/telemetry). A cycle's span continues
 * the trace of the freshest reading it acts on (the analyser's result, when a new one came),
 * so one trace runs from the OPC UA notification to the confirmed write. Mode, decision
 * source and model version are observed at scrape time, so only the current ones are exported.
 */
export class AgentTelemetry {
  private readonly step: { step: string };
  private readonly cycles = counter(METRICS.stepCycles);
  private readonly cycleDuration = histogram(METRICS.stepCycleDuration);
  private readonly lastCycle = gauge(METRICS.stepLastCycle);
  private readonly readingsTaken = counter(METRICS.stepReadings);
  private readonly interventions = counter(METRICS.stepShieldInterventions);
  private readonly moves = counter(METRICS.stepSetpointMoves);
  private readonly setpoint = gauge(METRICS.stepSetpoint);
  private readonly conversion = gauge(METRICS.stepConversion);
  private readonly yieldRatio = gauge(METRICS.stepYield);
  private readonly productionRate = gauge(METRICS.stepProductionRate);
  private readonly inSpec = gauge(METRICS.stepInSpec);
  private readonly target = gauge(METRICS.stepThroughputTarget);
  private readonly reward = gauge(METRICS.stepReward);
  private readonly inputAge = gauge(METRICS.stepInputAge);
  private readonly stopObserving: () => void;
  private readonly units: Map<string, string>;
  /** The span that took in the newest reading since the last cycle, and the newest analyser result. */
  private newestReading: SpanContext | undefined;
  private newestResult: SpanContext | undefined;
  private previousSetpoints: Readonly<Record<string, number>> | undefined;

  constructor(
    private readonly space: StepSpace,
    private readonly conversionTag: string | undefined,
    gates: readonly InputGate[],
    state: () => AgentState,
  ) {
    this.step = { step: space.step.id };
    this.units = new Map(space.manipulated.map((m) => [m.tag, m.unit]));
    const mode = observableGauge(METRICS.stepMode);
    const source = observableGauge(METRICS.stepDecisionSource);
    const model = observableGauge(METRICS.stepModelInfo);
    // The lines the step is judged against, exported so a dashboard or alert can draw them.
    const spec = observableGauge(METRICS.stepConversionSpec);
    const ageLimit = observableGauge(METRICS.stepInputAgeLimit);
    this.stopObserving = observe([mode, source, model, spec, ageLimit], (result) => {
      result.observe(spec, space.step.minConversion, this.step);
      for (const gate of gates)
        result.observe(ageLimit, gate.maxAge, { ...this.step, input: gate.tag });
      const now = state();
      for (const m of ['offline', 'operator', 'automatic'] as const)
        result.observe(mode, now.mode === m ? 1 : 0, { ...this.step, mode: m });
      for (const s of ['agent', 'fallback', 'hold', 'none'] as const)
        result.observe(source, now.source === s ? 1 : 0, { ...this.step, source: s });
      result.observe(model, 1, { ...this.step, model_version: now.modelVersion });
    });
  }

  /** A sensor event taken in, inside the span that consumes it (in the reading's trace). */
  reading(tag: string): void {
    this.readingsTaken.add(1, this.step);
    const consumed = activeSpanContext();
    if (consumed === undefined) return;
    this.newestReading = consumed;
    if (tag === this.conversionTag) this.newestResult = consumed;
  }

  /** Runs one cycle in its span, timing it. */
  async cycle<T>(run: () => Promise<T>): Promise<T> {
    const parent = this.newestResult ?? this.newestReading;
    this.newestResult = this.newestReading = undefined;
    const options: SpanOptions = {
      attributes: { 'pipac.step': this.space.step.id },
      ...(parent ? { parent } : {}),
    };
    const started = performance.now();
    try {
      return await inSpan(SPANS.cycle, options, run);
    } finally {
      this.cycles.add(1, this.step);
      this.cycleDuration.record((performance.now() - started) / 1000, this.step);
      this.lastCycle.record(Date.now() / 1000, this.step);
    }
  }

  decided(
    setpoints: Readonly<Record<string, number>>,
    interventions: readonly Intervention[],
  ): void {
    for (const i of interventions) this.interventions.add(1, { ...this.step, reason: i.reason });
    for (const [tag, value] of Object.entries(setpoints)) {
      this.setpoint.record(value, { ...this.step, tag, unit: this.units.get(tag) ?? '' });
    }
  }

  commanded(tag: string, source: 'agent' | 'fallback'): void {
    this.moves.add(1, { ...this.step, tag, source });
  }

  figures(f: StepFigures): void {
    for (const input of f.inputs)
      this.inputAge.record(Math.max(0, input.age), { ...this.step, input: input.tag });
    this.target.record(f.throughputTarget, this.step);
    if (!f.readings) return;
    if (Number.isFinite(f.conversion)) this.conversion.record(f.conversion, this.step);
    this.inSpec.record(f.inSpec ? 1 : 0, this.step);
    this.productionRate.record(f.productionRate, this.step);
    const fed = this.space.keyReactantFeed(f.readings.setpoints);
    if (fed > 0) this.yieldRatio.record(Math.min(1, f.productionRate / fed), this.step);
    this.reward.record(this.measuredReward(f, f.readings), this.step);
    this.previousSetpoints = f.readings.setpoints;
  }

  stop(): void {
    this.stopObserving();
  }

  /**
   * The reward's measurable terms for one cycle (libs/rl StepEnv): in-spec production up to
   * the target (off-spec counts against), relative to nominal; the mean squared move in action
   * units (−1..1 over the agent range); the squared closeness to the temperature and pressure
   * limits. Waste and energy need the twin's mass and heat balances and are left out.
   */
  private measuredReward(f: StepFigures, readings: StepReadings): number {
    const w = MEASURED_REWARD_WEIGHTS;
    const share = f.productionRate / this.space.nominalProductRate;
    const production = f.inSpec ? Math.min(share, f.throughputTarget) : -w.offSpec * share;
    let move = 0;
    if (this.previousSetpoints) {
      for (const m of this.space.manipulated) {
        const before = this.previousSetpoints[m.tag];
        const now = readings.setpoints[m.tag];
        if (before === undefined || now === undefined) continue;
        move += ((2 * (now - before)) / (m.agent.high - m.agent.low)) ** 2;
      }
      move /= this.space.manipulated.length;
    }
    const step = this.space.step;
    const temperatureMargin = step.maxTemperature - 273.15 - readings.maxTemperature;
    const pressureMargin = (step.maxPressure - readings.pressure) / step.maxPressure;
    const proximity =
      Math.max(0, 1 - temperatureMargin / TEMPERATURE_BAND) ** 2 +
      Math.max(0, 1 - pressureMargin / 0.1) ** 2;
    return production - w.move * move - w.limitProximity * proximity;
  }
}
