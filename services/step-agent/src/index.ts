export * from './app/step-agent';
export * from './app/readings-tracker';
export * from './app/agent.config';
export * from './app/step-agent.module';
export * from './app/step-agent.service';
