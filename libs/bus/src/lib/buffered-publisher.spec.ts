import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferedPublisher } from './buffered-publisher';
import { DiskSpool } from './disk-spool';
import type { BusMessage, EventBus, OutgoingMessage } from './event-bus.port';
import { InProcessBus } from './in-process.bus';

const TOPIC = 'pipac.site.cell.step.sensors';

/** The in-process bus behind a switch that makes publishing fail, as a broker outage does. */
class SwitchableBus extends InProcessBus {
  down = false;
  attempts = 0;
  override async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('broker unreachable');
    return super.publish(topic, messages);
  }
}

const message = (i: number): OutgoingMessage => ({
  key: `tag-${i % 5}`,
  value: new TextEncoder().encode(String(i)),
});

async function collect(bus: EventBus): Promise<number[]> {
  const seen: number[] = [];
  await bus.subscribe({
    group: 'test',
    topics: [TOPIC],
    fromBeginning: true,
    handler: async (m: BusMessage) => void seen.push(Number(new TextDecoder().decode(m.value))),
  });
  return seen;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('BufferedPublisher', () => {
  let dir: string;
  let bus: SwitchableBus;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-buffer-'));
    bus = new SwitchableBus();
    await bus.connect();
    await bus.ensureTopics([{ name: TOPIC }]);
  });
  afterEach(async () => {
    await bus.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (options = {}) =>
    new BufferedPublisher(bus, DiskSpool.open({ dir, sync: false }), {
      batchSize: 100,
      memoryLimit: 500,
      retryInitialMs: 5,
      retryMaxMs: 20,
      random: () => 0.5,
      ...options,
    });

  it('publishes everything in order while the bus is up', async () => {
    const seen = await collect(bus);
    const publisher = open({ memoryLimit: 2000 });
    for (let i = 0; i < 1000; i++) publisher.enqueue(TOPIC, message(i));
    await publisher.idle();
    await until(() => seen.length === 1000);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(publisher.stats).toMatchObject({ published: 1000, spooled: 0, inMemory: 0, onDisk: 0 });
    await publisher.close();
  });

  it('keeps every message through an outage, spooled to disk, and publishes them once in order', async () => {
    const seen = await collect(bus);
    const states: string[] = [];
    const publisher = open({ onStateChange: (state: string) => states.push(state) });
    for (let i = 0; i < 300; i++) publisher.enqueue(TOPIC, message(i));
    await publisher.idle();
    bus.down = true;
    for (let i = 300; i < 3000; i++) {
      publisher.enqueue(TOPIC, message(i));
      if (i % 250 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => publisher.stats.onDisk > 0);
    expect(publisher.stats.spooled).toBeGreaterThan(0);
    bus.down = false;
    await publisher.idle();
    await until(() => seen.length >= 3000);
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(states).toEqual(['spooling', 'publishing']);
    expect(publisher.stats).toMatchObject({ published: 3000, dropped: 0, inMemory: 0, onDisk: 0 });
    await publisher.close();
  });

  it('leaves unpublished messages on disk at close, for the next start to publish', async () => {
    bus.down = true;
    const first = open();
    for (let i = 0; i < 50; i++) first.enqueue(TOPIC, message(i));
    await until(() => bus.attempts > 0);
    await first.close();
    bus.down = false;
    const seen = await collect(bus);
    const second = open();
    await second.idle();
    await until(() => seen.length === 50);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await second.close();
  });
});
