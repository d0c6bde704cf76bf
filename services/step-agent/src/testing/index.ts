export * from './step-fixtures';
export * from './step-agent.scenarios';
