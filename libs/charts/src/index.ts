export * from './lib/axis';
export * from './lib/palette';
export * from './lib/svg-document';
export * from './lib/line-chart.svg';
export * from './lib/parity-plot.svg';
