import { DeviceServer, type DeviceDescription } from '@pipac/opcua';

/** A generic device with a counter reading and one setpoint: sequences make loss visible. */
export const COUNTER_DEVICE: DeviceDescription = {
  id: 'counter',
  step: 'nitration',
  profile: 'generic',
  manufacturer: 'pipac',
  model: 'counter (test)',
  serialNumber: 'TEST-1',
  functionalUnits: [
    {
      name: 'CNT-1',
      kind: 'generic',
      functions: [
        {
          kind: 'sensor',
          name: 'Count',
          unit: '1',
          range: { low: 0, high: 1e9 },
          tag: 'CNT-1.count',
        },
        {
          kind: 'control',
          name: 'Setpoint',
          unit: 'mL/min',
          range: { low: 0, high: 100 },
          setpointTag: 'SP-1',
          targetTag: 'SP-1.SP',
          currentTag: 'SP-1.PV',
          initial: 10,
        },
      ],
    },
  ],
};

/**
 * Counts on the device: every `periodMs` the counter goes up by one, while a server is
 * attached. Swapping the server (a restart) keeps the count going.
 */
export class CounterDriver {
  value = 0;
  server: DeviceServer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  start(server: DeviceServer): void {
    this.server = server;
    this.timer ??= setInterval(() => {
      if (!this.server) return;
      this.value++;
      this.server.update('CNT-1.count', { value: this.value });
    }, this.periodMs);
  }

  detach(): void {
    this.server = undefined;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.server = undefined;
  }
}

/** Values that are missing from 1..max, and values seen more than once. */
export function gapsAndDuplicates(
  values: number[],
  from: number,
  to: number,
): { missing: number[]; duplicates: number } {
  const seen = new Set<number>();
  let duplicates = 0;
  for (const v of values) {
    if (seen.has(v)) duplicates++;
    seen.add(v);
  }
  const missing: number[] = [];
  for (let v = from; v <= to; v++) if (!seen.has(v)) missing.push(v);
  return { missing, duplicates };
}
