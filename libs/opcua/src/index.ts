export * from './lib/device-model';
export * from './lib/node-map';
export * from './lib/security';
export * from './lib/lads-address-space';
export * from './lib/device-server';
export * from './lib/device-client';
export * from './lib/node-opcua-logging';
export * from './lib/free-port';
