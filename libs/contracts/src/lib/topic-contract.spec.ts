import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TOPIC_CONTRACT,
  renderTopicContract,
  streamOfTopic,
  topicConfigEntries,
  topicSettings,
} from './topic-contract';
import { STREAMS, TopicError } from './topics';

describe('the topic contract', () => {
  it('is what docs/topics.md shows (the table is rendered from it)', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/topics.md'), 'utf8');
    const table = /<!-- topic-contract:begin[^>]*-->\n([\s\S]*?)\n<!-- topic-contract:end -->/.exec(
      doc,
    )?.[1];
    // Cell by cell: Prettier pads the columns of the page.
    const cells = (markdown: string | undefined) =>
      (markdown ?? '')
        .trim()
        .split('\n')
        .map((row) =>
          row
            .split(' | ')
            .map((cell) => cell.replace(/^\|?\s*|\s*\|?$/g, '').replace(/^-+$/, '---')),
        );
    expect(cells(table)).toEqual(cells(renderTopicContract()));
  });

  it('covers every stream and the dead-letter topic, compacted exactly where STREAMS says', () => {
    expect(Object.keys(TOPIC_CONTRACT).sort()).toEqual(
      [...Object.keys(STREAMS), 'dead-letter'].sort(),
    );
    for (const [stream, { compacted }] of Object.entries(STREAMS)) {
      const contract = TOPIC_CONTRACT[stream as keyof typeof STREAMS];
      expect(contract.cleanupPolicy).toBe(compacted ? 'compact' : 'delete');
      expect(contract.retentionMs === undefined).toBe(compacted);
    }
  });

  it('finds the stream of a topic name', () => {
    expect(streamOfTopic('pipac.basel.cell-1.nitration.sensors')).toBe('sensors');
    expect(streamOfTopic('pipac.basel.cell-1.dead-letter')).toBe('dead-letter');
    expect(streamOfTopic('pipac.test.sensors.x')).toBeUndefined();
  });

  it('gives Kafka configs from the settings', () => {
    expect(topicConfigEntries('sensors', topicSettings('sensors'))).toEqual({
      'cleanup.policy': 'delete',
      'min.insync.replicas': '1',
      'retention.ms': '604800000',
    });
    expect(
      topicConfigEntries(
        'setpoints',
        topicSettings('setpoints', { replicationFactor: 3, minInsyncReplicas: 2 }),
      ),
    ).toEqual({ 'cleanup.policy': 'compact', 'min.insync.replicas': '2' });
  });

  it.each([
    [{ partitions: 0 }, /topics\.sensors\.partitions/],
    [{ replicationFactor: 1.5 }, /topics\.sensors\.replicationFactor/],
    [{ minInsyncReplicas: 2 }, /exceeds replicationFactor 1/],
    [{ retentionMs: -2 }, /topics\.sensors\.retentionMs/],
  ])('refuses %j, naming the field', (overrides, message) => {
    expect(() => topicSettings('sensors', overrides)).toThrow(TopicError);
    expect(() => topicSettings('sensors', overrides)).toThrow(message);
  });
});
