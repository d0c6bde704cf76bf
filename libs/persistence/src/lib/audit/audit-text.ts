import { PersistenceError } from '../errors';

/**
 * Why a text cannot enter the audit trail, or null when it can. An entry's hash is taken over
 * the UTF-8 bytes of its fields, and it must read back byte for byte from SQLite and PostgreSQL:
 * - ill-formed UTF-16 (a lone surrogate) has no UTF-8 encoding: Node hashes it as U+FFFD while
 *   the driver may store other bytes, so the entry would never verify again;
 * - NUL cannot be stored in a PostgreSQL text column at all, and other C0 controls (bar tab,
 *   line feed, carriage return) and DEL have no place in a record a person reads (ALCOA+:
 *   legible).
 */
export function auditTextProblem(value: string): string | null {
  // With the u flag a surrogate pair is one code point, so this matches only lone halves.
  if (/[\uD800-\uDFFF]/u.test(value)) return 'is not well-formed Unicode (a lone surrogate)';
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `holds the control character U+${code}`;
  }
  return null;
}

/**
 * Refuses a text the trail cannot hold faithfully (see `auditTextProblem`) or one longer than
 * its column, naming the field: the trail refuses rather than stores what it cannot verify.
 */
export function checkAuditText(field: string, value: string, maxLength?: number): void {
  const problem = auditTextProblem(value);
  if (problem) throw new PersistenceError('INVALID_ARGUMENT', `${field} ${problem}`, field);
  if (maxLength !== undefined && value.length > maxLength) {
    throw new PersistenceError(
      'INVALID_ARGUMENT',
      `${field} is ${value.length} characters long; at most ${maxLength} are kept`,
      field,
    );
  }
}
