import { mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskSpool, type SpoolRecord } from './disk-spool';

const record = (i: number, topic = 'pipac.s.c.step.sensors'): SpoolRecord => ({
  topic,
  message: {
    key: `tag-${i % 3}`,
    value: Uint8Array.of(i & 0xff, (i >> 8) & 0xff),
    headers: { n: String(i) },
  },
});
const numbers = (records: SpoolRecord[]) => records.map((r) => Number(r.message.headers!['n']));

function drain(spool: DiskSpool): number[] {
  const all: number[] = [];
  for (;;) {
    const { records, position } = spool.peek(7);
    if (records.length === 0) return all;
    all.push(...numbers(records));
    spool.commit(position);
  }
}

describe('DiskSpool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pipac-spool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives records back oldest first, with topic, key, headers and value intact', () => {
    const spool = DiskSpool.open({ dir, sync: false });
    spool.append([record(1), record(2)]);
    spool.append([record(3, 'other')]);
    const { records } = spool.peek(10);
    expect(records).toEqual([record(1), record(2), record(3, 'other')]);
    expect(spool.depth).toBe(3);
    spool.close();
  });

  it('removes only what was committed', () => {
    const spool = DiskSpool.open({ dir, sync: false, segmentBytes: 100, maxBytes: 10_000 });
    spool.append(Array.from({ length: 20 }, (_, i) => record(i)));
    const first = spool.peek(7);
    spool.commit(first.position);
    expect(numbers(spool.peek(100).records)).toEqual(Array.from({ length: 13 }, (_, i) => i + 7));
    expect(spool.depth).toBe(13);
    spool.close();
  });

  it('reopens after a restart where it left off', () => {
    const spool = DiskSpool.open({ dir, sync: true, segmentBytes: 200, maxBytes: 10_000 });
    spool.append(Array.from({ length: 30 }, (_, i) => record(i)));
    spool.commit(spool.peek(4).position);
    spool.close();
    const again = DiskSpool.open({ dir, sync: true, segmentBytes: 200, maxBytes: 10_000 });
    expect(again.depth).toBe(26);
    expect(drain(again)).toEqual(Array.from({ length: 26 }, (_, i) => i + 4));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toEqual([]);
    again.close();
  });

  it('cuts off a record half-written by a crash', () => {
    const spool = DiskSpool.open({ dir, sync: true });
    spool.append([record(1), record(2)]);
    spool.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(dir, segment), Buffer.from([0, 0, 0, 50, 1, 2, 3]));
    const again = DiskSpool.open({ dir, sync: true });
    expect(numbers(again.peek(10).records)).toEqual([1, 2]);
    again.append([record(3)]);
    expect(numbers(again.peek(10).records)).toEqual([1, 2, 3]);
    again.close();
  });

  it('stays within its bound by dropping the oldest segments, and counts them', () => {
    const spool = DiskSpool.open({ dir, sync: false, segmentBytes: 400, maxBytes: 1200 });
    for (let i = 0; i < 200; i++) spool.append([record(i)]);
    expect(spool.bytes).toBeLessThanOrEqual(1200);
    const kept = drain(spool);
    expect(kept.at(-1)).toBe(199);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 200 - kept.length + i));
    expect(spool.droppedRecords + kept.length).toBe(200);
    expect(spool.droppedRecords).toBeGreaterThan(0);
    spool.close();
  });

  it('ignores a commit for records that were dropped meanwhile', () => {
    const spool = DiskSpool.open({ dir, sync: false, segmentBytes: 400, maxBytes: 1200 });
    spool.append([record(0)]);
    const stale = spool.peek(1).position;
    for (let i = 1; i < 200; i++) spool.append([record(i)]);
    const before = spool.depth;
    spool.commit(stale);
    expect(spool.depth).toBe(before);
    spool.close();
  });
});
