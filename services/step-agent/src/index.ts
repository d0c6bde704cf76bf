export * from './app/step-agent';
export type { CycleReport } from './app/cycle-report';
export type { StepAgentStats } from './app/step-agent.stats';
export type { ModeChange, RequestedSource, StepMode } from '@pipac/control';
export * from './app/readings-tracker';
export * from './app/agent.config';
export * from './app/step-agent.module';
export * from './app/step-agent.service';
