/**
 * Column conventions shared by every entity, chosen so one schema means the same on SQLite
 * and PostgreSQL:
 * - instants are ISO 8601 UTC strings with milliseconds (`2026-11-29T03:11:08.123Z`): they sort
 *   as text, hash byte-for-byte the same on both drivers (the audit chain depends on that), and
 *   come from the injected clock, never from the database's `now()`;
 * - quantities are `double precision` with their unit in a sibling column (ISA-95 quantity +
 *   unit of measure);
 * - structured values are JSON text (`simple-json`).
 */
export const INSTANT = { type: 'varchar', length: 24 } as const;
