import { STREAMS, TopicError, deadLetterTopic, parseTopic, topicName } from './topics';

describe('topics', () => {
  it('builds and parses the ISA-95 path', () => {
    const path = {
      site: 'basel',
      cell: 'pipac-1',
      step: 'nitration',
      stream: 'setpoints',
    } as const;
    expect(topicName(path)).toBe('pipac.basel.pipac-1.nitration.setpoints');
    expect(parseTopic('pipac.basel.pipac-1.nitration.setpoints')).toEqual(path);
    expect(deadLetterTopic('basel', 'pipac-1')).toBe('pipac.basel.pipac-1.dead-letter');
  });

  it('compacts the last-value streams only', () => {
    const compacted = Object.entries(STREAMS)
      .filter(([, s]) => s.compacted)
      .map(([name]) => name);
    expect(compacted.sort()).toEqual(['setpoints', 'state', 'targets']);
  });

  it.each([
    [{ site: 'Basel', cell: 'c', step: 's', stream: 'sensors' }, /site "Basel"/],
    [{ site: 'b', cell: 'c.1', step: 's', stream: 'sensors' }, /cell "c.1"/],
    [{ site: 'b', cell: 'c', step: '', stream: 'sensors' }, /step ""/],
    [{ site: 'b', cell: 'c', step: 's', stream: 'logs' }, /unknown stream "logs"/],
  ])('refuses a bad path %j', (path, message) => {
    expect(() => topicName(path as never)).toThrow(TopicError);
    expect(() => topicName(path as never)).toThrow(message);
  });

  it('refuses topics that are not pipac paths', () => {
    expect(() => parseTopic('other.basel.c.s.sensors')).toThrow(TopicError);
    expect(() => parseTopic('pipac.basel.c.s')).toThrow(TopicError);
  });
});
