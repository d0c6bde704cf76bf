import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the adapter did with a command, kept to answer a redelivery without acting again. */
export interface JournalEntry {
  commandId: string;
  tag: string;
  /** The value the command asked for. */
  requested: number;
  /** WriteConfirmation outcome (numeric enum value). */
  outcome: number;
  valueReadBack: number;
  reason: string;
  /** When the command was received and confirmed, ms since the epoch. */
  receivedAt: number;
  confirmedAt: number;
}

/**
 * The ids of the commands this adapter answered, newest `capacity` of them, in memory and in
 * an append-only JSON-lines file, so a command delivered twice (a consumer rebalance, a broker
 * restart, an adapter restart) is recognised and never applied twice. The file is rewritten
 * with the newest entries once it holds twice the capacity.
 */
export class CommandJournal {
  private readonly entries = new Map<string, JournalEntry>();
  private lines = 0;

  private constructor(
    private readonly path: string,
    private readonly capacity: number,
  ) {}

  static open(path: string, capacity = 10_000): CommandJournal {
    mkdirSync(dirname(path), { recursive: true });
    const journal = new CommandJournal(path, capacity);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // A new journal.
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        journal.remember(JSON.parse(line) as JournalEntry);
        journal.lines++;
      } catch {
        // A line cut short by a crash: the command it named was not confirmed either.
      }
    }
    return journal;
  }

  get(commandId: string): JournalEntry | undefined {
    return this.entries.get(commandId);
  }

  /** Records an answered command (synchronously on disk before the confirmation goes out). */
  record(entry: JournalEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
    this.lines++;
    this.remember(entry);
    if (this.lines >= 2 * this.capacity) this.compact();
  }

  private remember(entry: JournalEntry): void {
    this.entries.delete(entry.commandId);
    this.entries.set(entry.commandId, entry);
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  private compact(): void {
    const text = [...this.entries.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
    writeFileSync(`${this.path}.tmp`, text);
    renameSync(`${this.path}.tmp`, this.path);
    this.lines = this.entries.size;
  }
}
