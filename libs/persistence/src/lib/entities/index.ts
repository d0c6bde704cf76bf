import { ApiClientEntity } from './api-client.entity';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { AuditEntryEntity } from './audit-entry.entity';
import { LotLinkEntity } from './lot-link.entity';
import { MaterialLotEntity } from './material-lot.entity';
import { ModelRegistryEntryEntity } from './model-registry.entity';
import { PerformanceRecordEntity } from './performance-record.entity';
import { ProductionOrderEntity } from './production-order.entity';
import { QualityResultEntity } from './quality-result.entity';
import { WebhookDeliveryEntity, WebhookSubscriptionEntity } from './webhook.entity';

export * from './api-client.entity';
export * from './audit-checkpoint.entity';
export * from './audit-entry.entity';
export * from './lot-link.entity';
export * from './material-lot.entity';
export * from './model-registry.entity';
export * from './performance-record.entity';
export * from './production-order.entity';
export * from './quality-result.entity';
export * from './webhook.entity';

/** Every table of the cell's database. */
export const ENTITIES = [
  ProductionOrderEntity,
  MaterialLotEntity,
  LotLinkEntity,
  PerformanceRecordEntity,
  QualityResultEntity,
  ModelRegistryEntryEntity,
  ApiClientEntity,
  AuditEntryEntity,
  AuditCheckpointEntity,
  WebhookSubscriptionEntity,
  WebhookDeliveryEntity,
];
