import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  HEADERS,
  Issuer_Kind,
  SetpointCommandSchema,
  setpointCommandCodec,
  type SetpointCommand,
} from '@pipac/contracts';
import { subscribeAll, type BusMessage, type EventBus } from '../lib/event-bus.port';
import { publishEvent, subscribeEvents } from '../lib/typed-events';

/**
 * The behaviour every EventBus adapter must have, as one jest suite: run it with a factory for
 * each adapter (in-process here; Kafka against a real broker). Topic and group names are
 * unique per test, so a long-lived broker can serve every run.
 */
export function describeEventBus(adapter: string, makeBus: () => Promise<EventBus>): void {
  describe(`EventBus contract: ${adapter}`, () => {
    let bus: EventBus;
    let run = 0;
    const unique = (name: string) => `pipac.test.${name}.${Date.now().toString(36)}-${++run}`;
    const bytes = (text: string) => new TextEncoder().encode(text);
    const text = (m: BusMessage) => new TextDecoder().decode(m.value);

    beforeAll(async () => {
      bus = await makeBus();
      await bus.connect();
    });

    afterAll(async () => {
      await bus.disconnect();
    });

    /** Subscribes and resolves with the first `count` messages handled. */
    async function collect(topic: string, count: number, group = unique('group')) {
      const seen: BusMessage[] = [];
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const subscription = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        handler: async (message) => {
          seen.push(message);
          if (seen.length === count) done();
        },
      });
      await finished;
      await subscription.close();
      return seen;
    }

    it('reports how far a member is behind: the messages left while its handler is held', async () => {
      const topic = unique('lag');
      await bus.ensureTopics([{ name: topic }]);
      await bus.publish(
        topic,
        Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: bytes(`m${i}`) })),
      );
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let first!: () => void;
      const started = new Promise<void>((resolve) => (first = resolve));
      let handled = 0;
      const subscription = await bus.subscribe({
        group: unique('group'),
        topics: [topic],
        fromBeginning: true,
        handler: async () => {
          handled++;
          if (handled === 2) first();
          if (handled === 2) await held;
        },
      });
      await started;
      // The first message is handled; the second is in hand: four behind the first.
      expect(subscription.lag()[topic]).toBe(4);
      release();
      await waitFor(() => handled === 5 && subscription.lag()[topic] === 0);
      await subscription.close();
    });

    it('delivers what was published, in order per key, with its headers', async () => {
      const topic = unique('order');
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `device-${i % 3}`,
        value: bytes(`m${i}`),
        headers: { traceparent: `00-${i}` },
      }));
      await bus.publish(topic, messages);
      const seen = await collect(topic, 30);
      for (const key of ['device-0', 'device-1', 'device-2']) {
        const sent = messages
          .filter((m) => m.key === key)
          .map((m) => new TextDecoder().decode(m.value));
        expect(seen.filter((m) => m.key === key).map(text)).toEqual(sent);
      }
      expect(seen.find((m) => text(m) === 'm7')?.headers['traceparent']).toBe('00-7');
    });

    it('starts a new group at the next message unless asked for the beginning', async () => {
      const topic = unique('start');
      await bus.ensureTopics([{ name: topic }]);
      await bus.publish(topic, [{ key: 'k', value: bytes('old') }]);
      const seen: string[] = [];
      const subscription = await bus.subscribe({
        group: unique('group'),
        topics: [topic],
        handler: async (m) => void seen.push(text(m)),
      });
      await bus.publish(topic, [{ key: 'k', value: bytes('new') }]);
      await waitFor(() => seen.length >= 1);
      await subscription.close();
      expect(seen).toEqual(['new']);
    });

    it('redelivers a message whose handler failed, before anything behind it', async () => {
      const topic = unique('retry');
      await bus.ensureTopics([{ name: topic }]);
      await bus.publish(topic, [
        { key: 'k', value: bytes('first') },
        { key: 'k', value: bytes('second') },
      ]);
      const attempts: string[] = [];
      let failed = false;
      const subscription = await bus.subscribe({
        group: unique('group'),
        topics: [topic],
        fromBeginning: true,
        retryDelayMs: 10,
        handler: async (m) => {
          attempts.push(text(m));
          if (!failed) {
            failed = true;
            throw new Error('transient');
          }
        },
      });
      await waitFor(() => attempts.length >= 3);
      await subscription.close();
      expect(attempts.slice(0, 3)).toEqual(['first', 'first', 'second']);
    });

    it('resumes a group after its last committed message', async () => {
      const topic = unique('commit');
      const group = unique('group');
      await bus.ensureTopics([{ name: topic }]);
      await bus.publish(
        topic,
        [1, 2, 3].map((i) => ({ key: 'k', value: bytes(`m${i}`) })),
      );
      expect((await collect(topic, 3, group)).map(text)).toEqual(['m1', 'm2', 'm3']);
      await bus.publish(topic, [{ key: 'k', value: bytes('m4') }]);
      expect((await collect(topic, 1, group)).map(text)).toEqual(['m4']);
    });

    it('gives every group every message', async () => {
      const topic = unique('groups');
      await bus.ensureTopics([{ name: topic }]);
      await bus.publish(topic, [
        { key: 'a', value: bytes('x') },
        { key: 'b', value: bytes('y') },
      ]);
      const [one, two] = await Promise.all([collect(topic, 2), collect(topic, 2)]);
      expect(one.map(text).sort()).toEqual(['x', 'y']);
      expect(two.map(text).sort()).toEqual(['x', 'y']);
    });

    it('stops delivering while paused and catches up on resume', async () => {
      const topic = unique('pause');
      await bus.ensureTopics([{ name: topic }]);
      const seen: string[] = [];
      const subscription = await bus.subscribe({
        group: unique('group'),
        topics: [topic],
        handler: async (m) => void seen.push(text(m)),
      });
      await bus.publish(topic, [{ key: 'k', value: bytes('before') }]);
      await waitFor(() => seen.length === 1);
      subscription.pause();
      await bus.publish(topic, [{ key: 'k', value: bytes('during') }]);
      await sleep(300);
      expect(seen).toEqual(['before']);
      subscription.resume();
      await waitFor(() => seen.length === 2);
      await subscription.close();
      expect(seen).toEqual(['before', 'during']);
    });

    it('sends undecodable and invalid events to the dead-letter topic with the reason, and delivers the rest', async () => {
      const topic = unique('setpoints');
      const deadLetterTopic = unique('dead-letter');
      await bus.ensureTopics([{ name: topic }, { name: deadLetterTopic }]);
      const valid: SetpointCommand = create(SetpointCommandSchema, {
        commandId: 'c-1',
        targetTag: 'P-101.SP',
        value: 5,
        unit: 'mL/min',
        issuer: { kind: Issuer_Kind.USER, id: 'op-1' },
        reason: 'test',
        issuedAt: timestampFromMs(0),
        deadline: timestampFromMs(60_000),
      });
      await bus.publish(topic, [{ key: 'P-101.SP', value: Uint8Array.from([0xff, 0xff, 0xff]) }]);
      await bus.publish(topic, [
        { key: 'P-101.SP', value: bytes('not protobuf either: \u0000\u0001') },
      ]);
      await publishEvent(bus, topic, setpointCommandCodec, 'P-101.SP', valid);
      const received: SetpointCommand[] = [];
      const subscription = await subscribeEvents(bus, {
        group: unique('group'),
        topic,
        codec: setpointCommandCodec,
        deadLetterTopic,
        fromBeginning: true,
        handler: async (event) => void received.push(event),
      });
      const dead = await collect(deadLetterTopic, 2);
      await waitFor(() => received.length === 1);
      await subscription.close();
      expect(received[0]!.commandId).toBe('c-1');
      for (const letter of dead) {
        expect(letter.headers[HEADERS.deadLetterCode]).toMatch(/UNDECODABLE|INVALID/);
        expect(letter.headers[HEADERS.deadLetterReason]).toContain('pipac.v1.SetpointCommand');
        expect(letter.headers[HEADERS.deadLetterTopic]).toMatch(
          new RegExp(`^${topic.replace(/\./g, '\\.')}/`),
        );
      }
    });

    it('ignores a tombstone (a deleted key of a compacted topic) and counts it, dead-letters nothing', async () => {
      const topic = unique('setpoints');
      const deadLetterTopic = unique('dead-letter');
      await bus.ensureTopics([{ name: topic, compacted: true }, { name: deadLetterTopic }]);
      const command: SetpointCommand = create(SetpointCommandSchema, {
        commandId: 'c-2',
        targetTag: 'P-101',
        value: 5,
        unit: 'mL/min',
        issuer: { kind: Issuer_Kind.USER, id: 'op-1' },
        reason: 'test',
        issuedAt: timestampFromMs(0),
        deadline: timestampFromMs(60_000),
      });
      await bus.publish(topic, [{ key: 'P-101', value: new Uint8Array(0), tombstone: true }]);
      await publishEvent(bus, topic, setpointCommandCodec, 'P-101', command);
      const received: SetpointCommand[] = [];
      const tombstones: string[] = [];
      const subscription = await subscribeEvents(bus, {
        group: unique('group'),
        topic,
        codec: setpointCommandCodec,
        deadLetterTopic,
        fromBeginning: true,
        handler: async (event) => void received.push(event),
        onTombstone: (message) => void tombstones.push(message.key),
      });
      await waitFor(() => received.length === 1);
      const dead: BusMessage[] = [];
      const watcher = await bus.subscribe({
        group: unique('group'),
        topics: [deadLetterTopic],
        fromBeginning: true,
        handler: async (message) => void dead.push(message),
      });
      await sleep(300);
      await watcher.close();
      await subscription.close();
      expect(tombstones).toEqual(['P-101']);
      expect(received.map((c) => c.commandId)).toEqual(['c-2']);
      expect(dead).toEqual([]);
    });

    it('subscriptions started together: if one fails, the others are closed and leave their groups', async () => {
      const topic = unique('together');
      const group = unique('group');
      await bus.ensureTopics([{ name: topic }]);
      const first: string[] = [];
      await expect(
        subscribeAll([
          bus.subscribe({
            group,
            topics: [topic],
            handler: async (m) => void first.push(text(m)),
          }),
          bus.subscribe({
            group: unique('group'),
            topics: [unique('missing')],
            handler: async () => undefined,
          }),
        ]),
      ).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
      await bus.publish(topic, [{ key: 'k', value: bytes('after') }]);
      // The group starts again where the closed member was positioned, and is alone in it.
      const seen = await collect(topic, 1, group);
      expect(seen.map(text)).toEqual(['after']);
      expect(first).toEqual([]);
    });

    it('refuses to publish to a topic that does not exist', async () => {
      await expect(
        bus.publish(unique('missing'), [{ key: 'k', value: bytes('x') }]),
      ).rejects.toMatchObject({
        code: 'UNKNOWN_TOPIC',
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until the condition holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
