import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  StepCapacityEstimator,
  type RequestedSource,
  type StepMode,
  type StepReadings,
  type StepSpace,
} from '@pipac/control';
import { AutomaticSource, StepStatusSchema, type StepStatus } from '@pipac/contracts';
import type { CycleReport } from './cycle-report';
import { MODE_WIRE } from './mode-events.codec';
import { liquidOutletFlow } from './outlet-flow';
import { stepLocation, type StepAddress } from './step-address';

/** What a cycle's status says besides the readings. */
export interface StatusInput {
  report: Pick<CycleReport, 'at' | 'source'>;
  mode: StepMode;
  requestedSource: RequestedSource;
  modelVersion: string;
  /** Undefined while inputs are missing. */
  readings: StepReadings | undefined;
}

/**
 * Encodes the step's status each cycle, for the coordinator and the gateway: mode and source,
 * conversion, outlet flow, production rate, and the step's capacity, estimated from the
 * analyser's results at the pace the step ran.
 */
export class StepStatusBuilder {
  private readonly capacity: StepCapacityEstimator;
  private readonly nominalOutletFlow: number;

  constructor(
    private readonly address: StepAddress,
    private readonly space: StepSpace,
  ) {
    this.capacity = new StepCapacityEstimator(space);
    this.nominalOutletFlow = liquidOutletFlow(space, space.nominalSetpoints());
  }

  build({ report, mode, requestedSource, modelVersion, readings }: StatusInput): StepStatus {
    const conversion = readings?.analyser?.values['conversion'] ?? Number.NaN;
    const outletFlow = readings ? liquidOutletFlow(this.space, readings.setpoints) : 0;
    // Capacity from the analyser's results at the pace the step ran (libs/control).
    const capacity = readings ? this.capacity.update(readings) : this.capacity.estimate;
    const capacityKnown = capacity.status !== 'unknown' && Number.isFinite(capacity.scale);
    const product = readings?.analyser?.values[`concentration:${this.space.step.spec.product}`];
    return create(StepStatusSchema, {
      location: stepLocation(this.address),
      mode: MODE_WIRE[mode],
      source:
        report.source === 'fallback' || requestedSource === 'fallback'
          ? AutomaticSource.FALLBACK
          : AutomaticSource.AGENT,
      // The contract's range; analyser noise reads a little past 1 near full conversion.
      conversion: Number.isFinite(conversion) ? Math.min(1, Math.max(0, conversion)) : 0,
      outletFlow,
      productionRate:
        product !== undefined && Number.isFinite(product) && product > 0
          ? (outletFlow / 60_000) * product
          : 0,
      capacity: capacityKnown ? capacity.scale * this.nominalOutletFlow : 0,
      capacityKnown,
      inSpec: Number.isFinite(conversion) && conversion >= this.space.step.minConversion,
      modelVersion,
      at: timestampFromMs(report.at),
    });
  }
}
