/**
 * The benchmark's device, in its own process (its own core, as a real device's server is on
 * its own hardware): an OPC UA server with `tags` sensor values and one setpoint, which on
 * command updates every sensor value `rate / tags` times per second.
 *
 * Parent → child (IPC): { start: { ratePerSecond, seconds } } · { stop: true }
 * Child → parent: { ready: nodeMap } · { produced: n, seconds, cpuSeconds } when a run ends
 */
import { DeviceServer, routeNodeOpcuaWarnings, type DeviceDescription } from '@pipac/opcua';

interface Start {
  start: { ratePerSecond: number; seconds: number };
}

const [port, pkiFolder, tags, username, password] = process.argv.slice(2);
const tagCount = Number(tags);

const device: DeviceDescription = {
  id: 'bench',
  step: 'bench',
  profile: 'generic',
  manufacturer: 'pipac',
  model: 'benchmark device',
  serialNumber: 'BENCH-1',
  functionalUnits: [
    {
      name: 'BENCH',
      kind: 'generic',
      functions: [
        ...Array.from({ length: tagCount }, (_, i) => ({
          kind: 'sensor' as const,
          name: `Value${i}`,
          unit: '1',
          range: { low: 0, high: 1e9 },
          tag: `TI-${i}`,
        })),
        {
          kind: 'control' as const,
          name: 'Setpoint',
          unit: 'mL/min',
          range: { low: 0, high: 1000 },
          setpointTag: 'SP-1',
          targetTag: 'SP-1.SP',
          currentTag: 'SP-1.PV',
          initial: 1,
        },
      ],
    },
  ],
};

async function main(): Promise<void> {
  routeNodeOpcuaWarnings();
  const server = await DeviceServer.start({
    devices: [device],
    port: Number(port),
    pkiFolder: pkiFolder!,
    security: {
      users: [{ username: username!, password: password! }],
      acceptUnknownCertificates: true,
    },
  });
  const names = Array.from({ length: tagCount }, (_, i) => `TI-${i}`);
  process.send!({ ready: server.nodeMap('bench') });
  process.on('message', (message: Start | { stop: true }) => {
    if ('stop' in message) {
      void server.stop().then(() => process.exit(0));
      return;
    }
    const { ratePerSecond, seconds } = message.start;
    // Ticks of 10 ms, each updating its share of the tags, sequence numbers per tag.
    const tickMs = 10;
    const perTick = (ratePerSecond * tickMs) / 1000;
    let produced = 0;
    let owed = 0;
    let value = 0;
    const started = Date.now();
    const cpu = process.cpuUsage();
    const timer = setInterval(() => {
      const elapsed = (Date.now() - started) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        const used = process.cpuUsage(cpu);
        process.send!({ produced, seconds: elapsed, cpuSeconds: (used.user + used.system) / 1e6 });
        return;
      }
      // Catch up on time lost to a late timer, so the offered rate is the rate asked for.
      owed = ratePerSecond * elapsed - produced;
      const n = Math.min(Math.floor(owed), 4 * perTick);
      const now = new Date();
      for (let i = 0; i < n; i++) {
        if (produced % tagCount === 0) value++;
        server.update(names[produced % tagCount]!, { value, sourceTime: now });
        produced++;
      }
    }, tickMs);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`device-server.child: ${(error as Error).message}\n`);
  process.exit(1);
});
