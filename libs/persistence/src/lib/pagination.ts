import { PersistenceError } from './errors';

/**
 * Keyset pagination: a cursor is the sort key of the last row seen, opaque to callers
 * (base64url JSON). Unlike offsets, pages stay stable while rows are added.
 */
export function encodeCursor(...key: string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === length &&
      value.every((part): part is string => typeof part === 'string')
    ) {
      return value;
    }
  } catch {
    // not JSON: refused below
  }
  throw new PersistenceError('INVALID_ARGUMENT', 'cursor is not one this API issued', 'cursor');
}
