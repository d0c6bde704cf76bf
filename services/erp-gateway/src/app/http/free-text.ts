/**
 * The one rule for text the gateway accepts (reasons, names, URLs, ids, paths): it ends up in
 * the audit trail, the database and the ERP's webhooks, so it must be well-formed Unicode (a
 * lone surrogate is hashed as U+FFFD but stored as bytes that read back differently, issue
 * 13 item 1) and hold no control characters (a NUL is refused by PostgreSQL, a CR/LF forges
 * lines in logs and exports). Free text is therefore one line.
 */
// With the u flag a surrogate pair is one code point outside this range: only lone halves match
// (String.prototype.isWellFormed is ES2024, beyond this project's lib).
const LONE_SURROGATE = /[\ud800-\udfff]/u;
// C0 controls, DEL and C1 controls (Unicode general category Cc).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** Why `text` is not acceptable free text, or undefined when it is. */
export function freeTextProblem(text: string): string | undefined {
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `must be well-formed Unicode (a lone surrogate at ${lone.index})`;
  const control = CONTROL.exec(text);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `must not hold control characters (U+${code} at ${control.index})`;
  }
  return undefined;
}
