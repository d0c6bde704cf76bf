import { describeEventBus } from '../testing/event-bus.contract';
import { InProcessBus } from './in-process.bus';

describeEventBus('in-process', () => Promise.resolve(new InProcessBus()));
