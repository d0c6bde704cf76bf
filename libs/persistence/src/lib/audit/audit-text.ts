import { PersistenceError } from '../errors';

// With the u flag a surrogate pair is one code point outside this range: only lone halves match
// (String.prototype.isWellFormed is ES2024, beyond this project's lib).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// C0 controls but tab, line feed and carriage return, and DEL.
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u;
// C0 controls, DEL and C1 controls (Unicode general category Cc).
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

function codePoint(match: RegExpExecArray): string {
  return match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

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
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (a lone surrogate)';
  const control = CONTROL_BUT_LINE_BREAKS.exec(value);
  return control ? `holds the control character U+${codePoint(control)}` : null;
}

/**
 * Why `text` is not acceptable one-line free text (what people type into a reason, a name, a
 * URL, an id), or undefined when it is: the audit trail's rule, and no line breaks or C1
 * controls either (a CR/LF forges lines in logs and exports). The REST API and the CLI take
 * their text by this rule.
 */
export function oneLineTextProblem(text: string): string | undefined {
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `must be well-formed Unicode (a lone surrogate at ${lone.index})`;
  const control = CONTROL.exec(text);
  if (control)
    return `must not hold control characters (U+${codePoint(control)} at ${control.index})`;
  return undefined;
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
