import { formatCsvRow, parseCsv } from './csv';

describe('parseCsv', () => {
  it("reads quoted cells with commas, quotes and newlines, and knows each record's line", () => {
    const { records } = parseCsv('a,b,c\r\n1,"x, ""y""",3\n"multi\nline",, 4 \n');
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', 'x, "y"', '3'] },
      { line: 3, cells: ['multi\nline', '', '4'] },
    ]);
  });

  it('skips blank lines and collects # comments with their line', () => {
    const { records, comments } = parseCsv('\uFEFF# made by hand\nid\n\n  # truth: x=1\nE1\n');
    expect(records).toEqual([
      { line: 2, cells: ['id'] },
      { line: 5, cells: ['E1'] },
    ]);
    expect(comments).toEqual([
      { line: 1, text: 'made by hand' },
      { line: 4, text: 'truth: x=1' },
    ]);
  });

  it('reads a last line without a newline', () => {
    expect(parseCsv('a\n1').records.map((r) => r.cells)).toEqual([['a'], ['1']]);
  });

  it('names the line of an unterminated quote', () => {
    expect(() => parseCsv('a\n"open,1\n2\n')).toThrow('line 2: a quoted field is never closed');
  });

  it('round-trips what formatCsvRow writes', () => {
    const cells = ['plain', 'with,comma', 'with "quote"', ' padded ', 'two\nlines'];
    expect(parseCsv(`${formatCsvRow(cells)}\n`).records[0]?.cells).toEqual(cells);
  });
});
