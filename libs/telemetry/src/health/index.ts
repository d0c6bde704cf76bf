// Kubernetes probes for the NestJS services. A separate entry point so that the libraries
// importing @pipac/telemetry (bus, persistence) do not load NestJS.
export * from './health.controller';
export * from './readiness';
