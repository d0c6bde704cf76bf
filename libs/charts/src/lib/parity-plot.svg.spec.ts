import { parityPlotSvg, type ParityPoint } from './parity-plot.svg';

/**
 * A small well-formedness check (no XML parser in the workspace): one root, tags properly
 * nested, attributes quoted, no stray `<` or `&` in text or attribute values.
 */
function expectWellFormedXml(xml: string): void {
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  const entity = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  for (const match of xml.matchAll(token)) {
    const text = xml.slice(last, match.index);
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toMatch(entity);
    expect(match[3] ?? '').not.toMatch(entity);
    const [, closing, name, , selfClosing] = match;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
    last = (match.index ?? 0) + match[0].length;
  }
  expect(xml.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('parityPlotSvg', () => {
  const points: ParityPoint[] = [
    { measured: 0.1, predicted: 0.11, quantity: 'c:a', label: 'S1' },
    { measured: 0.5, predicted: 0.48, quantity: 'c:a', label: 'S2' },
    { measured: 0.9, predicted: 0.91, quantity: 'c:b', label: 'S1' },
    { measured: 0.4, predicted: 0.42, quantity: 'conversion', label: 'S<3> & "x"' },
  ];

  it('is well-formed SVG with one circle per measurement', () => {
    const svg = parityPlotSvg(points, { title: 'Parity: test & <plant>', subtitle: 'R² 0.99' });
    expectWellFormedXml(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle class="point"/g)).toHaveLength(points.length);
    expect(svg).toContain('Parity: test &amp; &lt;plant&gt;');
    expect(svg).toContain(
      'S&lt;3&gt; &amp; &quot;x&quot; conversion: measured 0.4, predicted 0.42',
    );
  });

  it('colours points by quantity and lists each quantity in the legend with its count', () => {
    const svg = parityPlotSvg(points);
    const colours = new Map<string, Set<string>>();
    for (const m of svg.matchAll(
      /<circle class="point"[^>]* fill="([^"]+)"[^>]* data-quantity="([^"]+)"/g,
    )) {
      colours.set(m[2]!, (colours.get(m[2]!) ?? new Set()).add(m[1]!));
    }
    expect([...colours.keys()]).toEqual(['c:a', 'c:b', 'conversion']);
    expect(new Set([...colours.values()].map((s) => [...s].join()))).toHaveProperty('size', 3);
    for (const set of colours.values()) expect(set.size).toBe(1);
    expect(svg).toContain('>c:a (2)</text>');
    expect(svg).toContain('>conversion (1)</text>');
    expect(svg).toContain('>y = x</text>');
  });

  it('draws the identity line corner to corner and places points on the same scale', () => {
    const svg = parityPlotSvg([
      { measured: 0, predicted: 0, quantity: 'q' },
      { measured: 1, predicted: 1, quantity: 'q' },
    ]);
    const line =
      /<line class="identity" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/.exec(svg);
    const [x1, y1, x2, y2] = line!.slice(1).map(Number);
    const circles = [...svg.matchAll(/<circle class="point" cx="([\d.]+)" cy="([\d.]+)"/g)].map(
      (m) => [Number(m[1]), Number(m[2])],
    );
    // Points with measured = predicted lie on the line.
    for (const [cx, cy] of circles)
      expect((cy! - y1!) * (x2! - x1!)).toBeCloseTo((cx! - x1!) * (y2! - y1!), 3);
  });

  it('copes with no points, one value and non-finite predictions', () => {
    expectWellFormedXml(parityPlotSvg([]));
    expectWellFormedXml(parityPlotSvg([{ measured: 0.3, predicted: 0.3, quantity: 'c:a' }]));
    const svg = parityPlotSvg([
      ...points,
      { measured: 0.2, predicted: Number.NaN, quantity: 'c:a' },
    ]);
    expect(svg.match(/<circle class="point"/g)).toHaveLength(points.length);
    expect(svg).not.toContain('NaN');
  });
});
