import { InProcessBus } from '@pipac/bus';
import { describeStepAgentScenarios } from '../testing/step-agent.scenarios';

let runs = 0;
describeStepAgentScenarios('the in-process bus', async () => {
  const bus = new InProcessBus();
  await bus.connect();
  return { bus, site: `site-${++runs}`, close: () => bus.disconnect() };
});
