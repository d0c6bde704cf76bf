/**
 * A small CSV reader and writer (RFC 4180: comma-separated, double-quoted fields with `""`
 * escapes, CRLF or LF). Experiment tables are a few hundred rows written by hand or by a
 * spreadsheet, so this is enough and keeps the twin free of a parser dependency.
 * Extensions: lines starting with `#` are comments, blank lines are skipped.
 */
import { CalibrationError } from './calibration.error';

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvDocument {
  records: CsvRecord[];
  /** Comment lines, without the leading `#`, trimmed. */
  comments: { line: number; text: string }[];
}

/**
 * Throws CalibrationError('EXPERIMENTS_INVALID') naming the line for an unterminated quote;
 * the experiment table reader lists its message as an issue.
 */
export function parseCsv(text: string): CsvDocument {
  const records: CsvRecord[] = [];
  const comments: CsvDocument['comments'] = [];
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text; // spreadsheets write a BOM
  let line = 1;
  let i = 0;
  while (i < source.length) {
    // At the start of a record: a comment or blank line is consumed whole.
    const end = lineEnd(source, i);
    const raw = source.slice(i, end);
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) {
      if (raw.trim() !== '') comments.push({ line, text: raw.trimStart().slice(1).trim() });
      i = skipNewline(source, end);
      line++;
      continue;
    }
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    // A quoted cell keeps its spaces; an unquoted one is trimmed (spreadsheets pad with them).
    let wasQuoted = false;
    const push = () => {
      cells.push(wasQuoted ? cell : cell.trim());
      cell = '';
      wasQuoted = false;
    };
    for (;;) {
      const ch = source[i];
      if (quoted) {
        if (ch === undefined) {
          throw new CalibrationError(
            'EXPERIMENTS_INVALID',
            `line ${start}: a quoted field is never closed`,
          );
        }
        if (ch === '"') {
          if (source[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
      } else if (ch === '"' && !wasQuoted && cell.trim() === '') {
        quoted = true;
        wasQuoted = true;
        cell = '';
        i++;
      } else if (ch === ',') {
        push();
        i++;
      } else if (ch === undefined || ch === '\n' || ch === '\r') {
        push();
        i = ch === undefined ? i : skipNewline(source, i);
        line++;
        break;
      } else {
        cell += ch;
        i++;
      }
    }
    records.push({ line: start, cells });
  }
  return { records, comments };
}

/** One CSV line (no newline); quotes cells that need it. */
export function formatCsvRow(cells: readonly string[]): string {
  return cells
    .map((cell) =>
      /[",\n\r]/.test(cell) || cell !== cell.trim() ? `"${cell.replace(/"/g, '""')}"` : cell,
    )
    .join(',');
}

function lineEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  return i;
}

function skipNewline(text: string, at: number): number {
  if (text[at] === '\r' && text[at + 1] === '\n') return at + 2;
  return at < text.length ? at + 1 : at;
}
