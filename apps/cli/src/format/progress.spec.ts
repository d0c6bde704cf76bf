import { ProgressReporter } from './progress';

function lines(tty: boolean, updates: number[], total = 100): string[] {
  const quiet = process.env['PIPAC_QUIET'];
  delete process.env['PIPAC_QUIET'];
  let stderr = '';
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const progress = new ProgressReporter('sim', total, { tty });
    for (const done of updates) progress.update(done);
    progress.done();
  } finally {
    err.mockRestore();
    if (quiet !== undefined) process.env['PIPAC_QUIET'] = quiet;
  }
  return stderr
    .split(/[\r\n]/)
    .filter((line) => line !== '')
    .map((line) => line.replace(/ \([\d.]+ s\)$/, ''));
}

describe('ProgressReporter', () => {
  it('off a terminal, prints a line each time a 10 % boundary is crossed, even between updates', () => {
    // Updates every 480 s of an 8 h run: 1.67 %, 3.33 %… land on a multiple of 10 only at 50 and 100.
    const updates = Array.from({ length: 60 }, (_, i) => (i + 1) * 480);
    expect(lines(false, updates, 8 * 3600)).toEqual([
      'sim: 10%',
      'sim: 20%',
      'sim: 30%',
      'sim: 40%',
      'sim: 50%',
      'sim: 60%',
      'sim: 70%',
      'sim: 80%',
      'sim: 90%',
      'sim: 100%',
    ]);
  });

  it('reports each boundary once, with the percentage reached', () => {
    expect(lines(false, [3, 11, 12, 19, 20, 47, 47, 100])).toEqual([
      'sim: 11%',
      'sim: 20%',
      'sim: 47%',
      'sim: 100%',
    ]);
  });

  it('on a terminal, rewrites the line at every new percentage', () => {
    expect(lines(true, [1, 1, 2, 3])).toEqual(['sim: 1%', 'sim: 2%', 'sim: 3%']);
  });
});
