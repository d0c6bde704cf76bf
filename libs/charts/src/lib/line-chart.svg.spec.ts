import { lineChartSvg } from './line-chart.svg';

describe('lineChartSvg', () => {
  const x = [0, 1, 2, 3];

  it('draws one path per series, broken where values are not finite', () => {
    const svg = lineChartSvg({
      title: 'run',
      xLabel: 't',
      x,
      panels: [
        {
          title: 'conversion',
          unit: '1',
          series: [
            { label: 'a', values: [0.9, Number.NaN, 0.95, 0.97] },
            { label: 'b', values: [0.5, 0.6, 0.7, 0.8], dashed: true },
          ],
        },
      ],
    });
    const paths = svg.match(/<path d="([^"]*)"/g) ?? [];
    expect(paths).toHaveLength(2);
    expect(paths[0]!.match(/M/g)).toHaveLength(2); // the NaN lifts the pen
    expect(svg).toContain('stroke-dasharray');
  });

  it('finishes on lines flat to within round-off, and on all-NaN lines', () => {
    const svg = lineChartSvg({
      title: 'flat',
      xLabel: 't',
      x,
      panels: [
        {
          title: 'level',
          unit: 'L',
          series: [{ label: 'tank', values: [1, 0.9999999999999999, 1, 1] }],
        },
        {
          title: 'none yet',
          unit: '1',
          series: [{ label: 'analyser', values: [Number.NaN, Number.NaN, Number.NaN, Number.NaN] }],
        },
      ],
    });
    expect(svg).not.toContain('NaN');
    expect((svg.match(/class="panel"/g) ?? []).length).toBe(2);
  });
});
