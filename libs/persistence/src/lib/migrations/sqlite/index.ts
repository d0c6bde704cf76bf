import type { MigrationInterface } from 'typeorm';
import { PerformanceBasis1796607501540 } from './1796607501540-performance-basis';
import { AuditCheckpoint1796606698351 } from './1796606698351-audit-checkpoint';
import { Initial1795922304339 } from './1795922304339-initial';
import { AuditAppendOnly1795922304340 } from './1795922304340-audit-append-only';

/** The sqlite migrations, oldest first (written by `npm run generate:migration`). */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795922304339,
  AuditAppendOnly1795922304340,
  AuditCheckpoint1796606698351,
  PerformanceBasis1796607501540,
];
