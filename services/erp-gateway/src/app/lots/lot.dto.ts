import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OrderView } from '../orders/order.dto';

/**
 * The shapes the lot endpoints answer with, for the OpenAPI document: they mirror the
 * persistence entities and the batch record as they leave the gateway (JSON, instants as
 * ISO 8601 strings, absent values as null).
 */

const LOT_STATUSES = ['in-process', 'complete', 'consumed', 'rejected'];
const KINDS = ['produced', 'consumed'];
const BASES = ['measured', 'estimated', 'unmeasured'];

/** A material lot (ISA-95 MaterialLot). */
export class MaterialLotView {
  @ApiProperty({ type: String, example: 'PO-1234/acetylation/1' }) id!: string;
  @ApiProperty({ type: String, example: 'paracetamol' }) material!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The step that made it; null for a raw material',
  })
  step!: string | null;
  @ApiProperty({ type: String, nullable: true }) orderId!: string | null;
  @ApiProperty({ type: Number }) quantity!: number;
  @ApiProperty({ type: String }) unit!: string;
  @ApiProperty({ type: String, enum: LOT_STATUSES }) status!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) closedAt!: string | null;
}

/** One genealogy link: `quantity` of `fromLotId` went into `toLotId` at `step`. */
export class LotLinkView {
  @ApiProperty({ type: 'integer' }) id!: number;
  @ApiProperty({ type: String }) fromLotId!: string;
  @ApiProperty({ type: String }) toLotId!: string;
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: Number }) quantity!: number;
  @ApiProperty({ type: String }) unit!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ type: MaterialLotView, description: 'The lot at the other end' })
  lot?: MaterialLotView;
}

export class GenealogyView {
  @ApiProperty({ type: MaterialLotView }) lot!: MaterialLotView;
  @ApiProperty({
    type: LotLinkView,
    isArray: true,
    description: 'Every lot that went into this one',
  })
  ancestors!: LotLinkView[];
  @ApiProperty({ type: LotLinkView, isArray: true, description: 'Every lot this one went into' })
  descendants!: LotLinkView[];
}

/** What one step produced or consumed of one material for an order, summed. */
export class PerformanceTotalView {
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String }) material!: string;
  @ApiProperty({ type: String, enum: KINDS }) kind!: string;
  @ApiProperty({ type: Number }) quantity!: number;
  @ApiProperty({ type: Number }) inSpecQuantity!: number;
  @ApiProperty({ type: String }) unit!: string;
  @ApiProperty({ type: Number, description: 'Of quantity, what was estimated' })
  estimatedQuantity!: number;
  @ApiProperty({ type: 'integer', description: 'Intervals whose quantity could not be found' })
  unmeasuredIntervals!: number;
  @ApiProperty({ type: Number, nullable: true, description: "mol of the step's key reactant" })
  keyMoles!: number | null;
}

export class PerformanceNoteView {
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String }) material!: string;
  @ApiProperty({ type: String, enum: KINDS }) kind!: string;
  @ApiProperty({ type: String, enum: BASES }) basis!: string;
  @ApiProperty({ type: String }) note!: string;
  @ApiProperty({ type: 'integer' }) intervals!: number;
  @ApiProperty({ type: Number }) quantity!: number;
  @ApiProperty({ type: Number }) estimatedQuantity!: number;
  @ApiProperty({ type: String }) unit!: string;
}

export class StoichiometryToleranceView {
  @ApiProperty({ type: Number }) relative!: number;
  @ApiProperty({ type: Number }) absolute!: number;
}

/** A step's product checked against the key reactant it consumed. */
export class StoichiometryCheckView {
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String }) product!: string;
  @ApiProperty({ type: String }) keyReactant!: string;
  @ApiProperty({ type: Number, description: 'g of product' }) produced!: number;
  @ApiProperty({ type: Number, description: 'mol of key reactant the product needs' })
  keyRequired!: number;
  @ApiProperty({ type: Number, description: 'mol of key reactant consumed' }) keyConsumed!: number;
  @ApiProperty({ type: Number }) keyEstimated!: number;
  @ApiProperty({ type: String, isArray: true }) unmeasured!: string[];
  @ApiProperty({ type: String, enum: ['pass', 'fail', 'unverifiable'] }) status!: string;
  @ApiProperty({ type: Number, nullable: true }) yield!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxProduct!: number | null;
  @ApiProperty({ type: Number }) allowed!: number;
  @ApiProperty({ type: StoichiometryToleranceView }) tolerance!: StoichiometryToleranceView;
  @ApiProperty({ type: String }) reason!: string;
}

/** An audit-trail entry as the batch record lists it. */
export class BatchEventView {
  @ApiProperty({ type: 'integer' }) sequence!: number;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
  @ApiProperty({ type: String }) actor!: string;
  @ApiProperty({ type: String }) actorKind!: string;
  @ApiProperty({ type: String, nullable: true }) step!: string | null;
  @ApiProperty({ type: String, nullable: true }) device!: string | null;
  @ApiProperty({ type: String }) object!: string;
  @ApiProperty({ type: String, nullable: true }) oldValue!: string | null;
  @ApiProperty({ type: String, nullable: true }) newValue!: string | null;
  @ApiProperty({ type: String, nullable: true }) unit!: string | null;
  @ApiProperty({ type: String }) reason!: string;
  @ApiProperty({ type: String, nullable: true }) traceId!: string | null;
  @ApiProperty({ type: String, nullable: true }) modelVersion!: string | null;
}

export class ModelVersionUseView {
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String }) version!: string;
  @ApiProperty({ type: String, format: 'date-time' }) firstUsed!: string;
  @ApiProperty({ type: String, format: 'date-time' }) lastUsed!: string;
}

export class QualityResultView {
  @ApiProperty({ type: 'integer' }) id!: number;
  @ApiProperty({ type: String, nullable: true }) orderId!: string | null;
  @ApiProperty({ type: String }) lotId!: string;
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({ type: String }) tag!: string;
  @ApiProperty({ type: Number }) value!: number;
  @ApiProperty({ type: String }) unit!: string;
  @ApiProperty({ type: Boolean }) inSpec!: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) sampledAt!: string;
}

export class AuditFindingView {
  @ApiProperty({ type: String }) kind!: string;
  @ApiProperty({ type: 'integer' }) sequence!: number;
  @ApiProperty({ type: String }) message!: string;
}

export class SignedCheckpointView {
  @ApiProperty({ type: 'integer' }) sequence!: number;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
  @ApiProperty({ type: String }) keyId!: string;
}

export class BrokenAtView {
  @ApiProperty({ type: 'integer' }) sequence!: number;
  @ApiProperty({ type: String }) reason!: string;
}

/** Whether the audit trail behind the record verifies, and what was found if not. */
export class AuditVerificationView {
  @ApiProperty({ type: Boolean, description: 'True when nothing was found' }) ok!: boolean;
  @ApiProperty({ type: 'integer' }) entries!: number;
  @ApiProperty({ type: String }) head!: string;
  @ApiProperty({ type: String, enum: ['checked', 'not-configured'] }) signatures!: string;
  @ApiProperty({ type: SignedCheckpointView, nullable: true }) signed!: SignedCheckpointView | null;
  @ApiProperty({ type: 'integer' }) unsignedPrefix!: number;
  @ApiProperty({ type: AuditFindingView, isArray: true }) findings!: AuditFindingView[];
  @ApiProperty({ type: 'integer' }) moreFindings!: number;
  @ApiPropertyOptional({ type: BrokenAtView }) broken?: BrokenAtView;
}

export class BatchGenealogyView {
  @ApiProperty({ type: LotLinkView, isArray: true }) ancestors!: LotLinkView[];
  @ApiProperty({ type: LotLinkView, isArray: true }) descendants!: LotLinkView[];
}

/** A lot's electronic batch record (lots/batch-record.ts). */
export class BatchRecordView {
  @ApiProperty({ type: String, format: 'date-time' }) generatedAt!: string;
  @ApiProperty({ type: MaterialLotView }) lot!: MaterialLotView;
  @ApiProperty({ type: OrderView, nullable: true }) order!: OrderView | null;
  @ApiProperty({ type: BatchGenealogyView }) genealogy!: BatchGenealogyView;
  @ApiProperty({ type: PerformanceTotalView, isArray: true }) performance!: PerformanceTotalView[];
  @ApiProperty({ type: StoichiometryCheckView, isArray: true })
  stoichiometry!: StoichiometryCheckView[];
  @ApiProperty({ type: PerformanceNoteView, isArray: true }) estimates!: PerformanceNoteView[];
  @ApiProperty({ type: BatchEventView, isArray: true }) orderEvents!: BatchEventView[];
  @ApiProperty({ type: BatchEventView, isArray: true }) setpointChanges!: BatchEventView[];
  @ApiProperty({ type: BatchEventView, isArray: true }) modeChanges!: BatchEventView[];
  @ApiProperty({ type: BatchEventView, isArray: true }) alarms!: BatchEventView[];
  @ApiProperty({ type: ModelVersionUseView, isArray: true }) modelVersions!: ModelVersionUseView[];
  @ApiProperty({ type: QualityResultView, isArray: true }) qualityResults!: QualityResultView[];
  @ApiProperty({ type: AuditVerificationView }) auditTrail!: AuditVerificationView;
}
