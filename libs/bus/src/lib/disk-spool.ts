import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { BusError, type OutgoingMessage } from './event-bus.port';

/** One message bound for a topic, as the spool keeps it. */
export interface SpoolRecord {
  topic: string;
  message: OutgoingMessage;
}

export interface DiskSpoolOptions {
  /** Directory of the spool (created if missing; reopened with its contents after a restart). */
  dir: string;
  /** Most bytes kept; beyond it the oldest segments are dropped (and counted). @default 256 MiB */
  maxBytes?: number;
  /** Size at which a new segment file starts. @default 4 MiB */
  segmentBytes?: number;
  /** fsync after every append and commit, so a power cut loses nothing written. @default true */
  sync?: boolean;
}

/** Where a peek ended: commit it once the records are safely elsewhere. */
export interface SpoolPosition {
  segment: number;
  offset: number;
  records: number;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  records: number;
}

const SEGMENT_SUFFIX = '.seg';
const HEAD_FILE = 'head';
/** u32 length of the record after this field. */
const LENGTH_BYTES = 4;
const READ_CHUNK = 1 << 20;

/**
 * A bounded first-in, first-out queue of messages on disk: append-only segment files of
 * length-prefixed records, and a head file saying how far the oldest segment was consumed.
 * It survives a restart of the process (a record half-written by a crash is cut off), keeps
 * at most `maxBytes` by dropping the oldest whole segments, and counts what it dropped.
 *
 * Hand-written rather than a database because it only ever appends at the tail and consumes
 * at the head: two file descriptors and no native addon.
 */
export class DiskSpool {
  private readonly segments: Segment[] = [];
  private headOffset = 0;
  private headRecords = 0;
  private tailFd: number | undefined;
  /** Sequence number of the next segment: never reused while open, so stale positions stay stale. */
  private nextSeq = 1;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  /** Records dropped because the spool was full, since it was opened. */
  droppedRecords = 0;

  private constructor(
    private readonly dir: string,
    options: DiskSpoolOptions,
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.sync = options.sync ?? true;
    if (!(this.segmentBytes > 0 && this.maxBytes >= this.segmentBytes)) {
      throw new BusError(
        'INVALID_OPTIONS',
        'spool maxBytes must be at least segmentBytes, both positive',
        false,
      );
    }
  }

  static open(options: DiskSpoolOptions): DiskSpool {
    mkdirSync(options.dir, { recursive: true });
    const spool = new DiskSpool(options.dir, options);
    spool.recover();
    return spool;
  }

  /** Records waiting. */
  get depth(): number {
    return this.segments.reduce((n, s) => n + s.records, 0) - this.headRecords;
  }

  /** Bytes on disk, the consumed part of the oldest segment included. */
  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  append(records: SpoolRecord[]): void {
    if (records.length === 0) return;
    const buffer = Buffer.concat(records.map(encodeRecord));
    let tail = this.segments.at(-1);
    if (!tail || tail.bytes + buffer.length > this.segmentBytes) tail = this.startSegment();
    writeAll(this.tailFd!, buffer);
    if (this.sync) fsyncSync(this.tailFd!);
    tail.bytes += buffer.length;
    tail.records += records.length;
    this.enforceBound();
  }

  /** Up to `max` of the oldest records, without removing them. */
  peek(max: number): { records: SpoolRecord[]; position: SpoolPosition } {
    const head = this.segments[0];
    if (!head || max <= 0) return { records: [], position: this.position(0, 0) };
    const records: SpoolRecord[] = [];
    const fd = openSync(head.path, 'r');
    try {
      let offset = this.headOffset;
      while (records.length < max && offset < head.bytes) {
        const chunk = Buffer.alloc(Math.min(READ_CHUNK, head.bytes - offset));
        readSync(fd, chunk, 0, chunk.length, offset);
        let at = 0;
        while (records.length < max && at + LENGTH_BYTES <= chunk.length) {
          const length = chunk.readUInt32BE(at);
          if (at + LENGTH_BYTES + length > chunk.length) break;
          records.push(decodeRecord(chunk.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length)));
          at += LENGTH_BYTES + length;
        }
        if (at === 0) {
          // One record larger than the chunk: read it whole.
          const length = chunk.readUInt32BE(0);
          const whole = Buffer.alloc(length);
          readSync(fd, whole, 0, length, offset + LENGTH_BYTES);
          records.push(decodeRecord(whole));
          at = LENGTH_BYTES + length;
        }
        offset += at;
      }
      return { records, position: this.position(offset - this.headOffset, records.length) };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Removes the records of a peek. A position whose segment was dropped meanwhile (spool
   * full) is ignored: those records are gone already.
   */
  commit(position: SpoolPosition): void {
    const head = this.segments[0];
    if (!head || head.seq !== position.segment || position.records === 0) return;
    this.headOffset += position.offset;
    this.headRecords += position.records;
    if (this.headOffset >= head.bytes) this.removeHead();
    else this.writeHead();
  }

  close(): void {
    if (this.tailFd !== undefined) closeSync(this.tailFd);
    this.tailFd = undefined;
  }

  private position(offset: number, records: number): SpoolPosition {
    return { segment: this.segments[0]?.seq ?? -1, offset, records };
  }

  private startSegment(): Segment {
    if (this.tailFd !== undefined) closeSync(this.tailFd);
    const seq = this.nextSeq++;
    const segment = { seq, path: this.segmentPath(seq), bytes: 0, records: 0 };
    this.tailFd = openSync(segment.path, 'a');
    this.segments.push(segment);
    return segment;
  }

  private removeHead(): void {
    const head = this.segments.shift()!;
    if (this.segments.length === 0 && this.tailFd !== undefined) {
      closeSync(this.tailFd);
      this.tailFd = undefined;
    }
    unlinkSync(head.path);
    this.headOffset = 0;
    this.headRecords = 0;
    this.writeHead();
  }

  private enforceBound(): void {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const head = this.segments[0]!;
      this.droppedRecords += head.records - this.headRecords;
      this.removeHead();
    }
  }

  private segmentPath(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}${SEGMENT_SUFFIX}`);
  }

  /** The head file names the oldest segment and how far it was consumed (written atomically). */
  private writeHead(): void {
    const head = this.segments[0];
    const text = head ? `${head.seq} ${this.headOffset} ${this.headRecords}\n` : '';
    const path = join(this.dir, HEAD_FILE);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }

  private recover(): void {
    const files = readdirSync(this.dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .sort();
    for (const name of files) {
      const seq = Number(name.slice(0, -SEGMENT_SUFFIX.length));
      const path = join(this.dir, name);
      const { bytes, records } = scanSegment(path);
      this.segments.push({ seq, path, bytes, records });
    }
    let head = '';
    try {
      head = readFileSync(join(this.dir, HEAD_FILE), 'utf8').trim();
    } catch {
      // No head file: nothing was consumed yet.
    }
    const [seq, offset, records] = head.split(' ').map(Number);
    if (
      this.segments[0] &&
      seq === this.segments[0].seq &&
      offset !== undefined &&
      records !== undefined
    ) {
      this.headOffset = offset;
      this.headRecords = records;
    }
    const tail = this.segments.at(-1);
    if (tail) this.tailFd = openSync(tail.path, 'a');
    this.nextSeq = (tail?.seq ?? 0) + 1;
  }
}

/** Counts the complete records of a segment and cuts off a record half-written by a crash. */
function scanSegment(path: string): { bytes: number; records: number } {
  const data = readFileSync(path);
  let at = 0;
  let records = 0;
  while (at + LENGTH_BYTES <= data.length) {
    const length = data.readUInt32BE(at);
    if (at + LENGTH_BYTES + length > data.length) break;
    at += LENGTH_BYTES + length;
    records++;
  }
  if (at < data.length) {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, at);
    } finally {
      closeSync(fd);
    }
  }
  return { bytes: at, records };
}

function writeAll(fd: number, buffer: Buffer): void {
  let written = 0;
  while (written < buffer.length) written += writeSync(fd, buffer, written);
}

/** [u32 length][u16 topic][topic][u16 key][key][u32 headers][headers JSON][value] */
function encodeRecord(record: SpoolRecord): Buffer {
  const topic = Buffer.from(record.topic, 'utf8');
  const key = Buffer.from(record.message.key, 'utf8');
  const headers = Buffer.from(JSON.stringify(record.message.headers ?? {}), 'utf8');
  const value = record.message.value;
  const length = 2 + topic.length + 2 + key.length + 4 + headers.length + value.length;
  const buffer = Buffer.allocUnsafe(LENGTH_BYTES + length);
  let at = buffer.writeUInt32BE(length, 0);
  at = buffer.writeUInt16BE(topic.length, at);
  at += topic.copy(buffer, at);
  at = buffer.writeUInt16BE(key.length, at);
  at += key.copy(buffer, at);
  at = buffer.writeUInt32BE(headers.length, at);
  at += headers.copy(buffer, at);
  buffer.set(value, at);
  return buffer;
}

function decodeRecord(buffer: Buffer): SpoolRecord {
  let at = 0;
  const topicLength = buffer.readUInt16BE(at);
  at += 2;
  const topic = buffer.toString('utf8', at, at + topicLength);
  at += topicLength;
  const keyLength = buffer.readUInt16BE(at);
  at += 2;
  const key = buffer.toString('utf8', at, at + keyLength);
  at += keyLength;
  const headersLength = buffer.readUInt32BE(at);
  at += 4;
  const headers = JSON.parse(buffer.toString('utf8', at, at + headersLength)) as Record<
    string,
    string
  >;
  at += headersLength;
  return { topic, message: { key, value: Uint8Array.from(buffer.subarray(at)), headers } };
}
