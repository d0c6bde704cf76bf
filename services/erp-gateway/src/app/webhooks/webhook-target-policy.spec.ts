import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@pipac/bus';
import { scratchSqlite } from '@pipac/persistence/testing';
import { createErpGateway } from '../erp-gateway.app';
import { loadGatewayConfig } from '../gateway.config';
import { postWebhook } from './webhook-post';
import { WebhookTargetError, WebhookTargetPolicy } from './webhook-target-policy';

describe('WebhookTargetPolicy', () => {
  it('refuses loopback, link-local and metadata addresses unless their network is allowed', () => {
    const policy = new WebhookTargetPolicy();
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '::ffff:127.0.0.1',
      '169.254.169.254',
      'fd00:ec2::254',
      '100.100.100.200',
      'fe80::1%eth0',
      '0.0.0.0',
      '::',
      '224.0.0.1',
    ]) {
      expect([address, policy.refusal(address)?.startsWith(`${address} is `)]).toEqual([
        address,
        true,
      ]);
    }
    for (const address of ['10.20.30.40', '192.168.1.5', '172.16.0.1', '8.8.8.8', 'fd12::1']) {
      expect({ address, refused: policy.refusal(address) }).toEqual({
        address,
        refused: undefined,
      });
    }
    const allowing = new WebhookTargetPolicy(['127.0.0.0/8', '::1/128']);
    expect(allowing.refusal('127.0.0.1')).toBeUndefined();
    expect(allowing.refusal('::1')).toBeUndefined();
    expect(allowing.refusal('169.254.169.254')).toMatch(/link-local/);
  });

  it('resolves names: localhost is refused by the real resolver, however it is spelt', async () => {
    const policy = new WebhookTargetPolicy();
    await expect(policy.check('http://localhost:8080/hooks')).rejects.toThrow(
      /^localhost resolves to (127\.0\.0\.1|::1) is a loopback address/,
    );
    await expect(policy.check('http://2130706433/')).rejects.toThrow(/127\.0\.0\.1 is a loopback/);
    await expect(policy.check('http://0x7f.1/')).rejects.toThrow(/loopback/);
    await expect(policy.check('http://no-such-host.invalid/')).rejects.toThrow(
      'no-such-host.invalid does not resolve',
    );
    await expect(policy.check('http://10.1.2.3/hooks')).resolves.toBeUndefined();
  });

  it('checks the address connected to at delivery, not the one seen at subscription', async () => {
    let hits = 0;
    const server: Server = createServer((_request, response) => {
      hits++;
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // A name that resolved to a public address when subscribed now points at loopback.
    let target = '203.0.113.7';
    const rebinding = new WebhookTargetPolicy([], async () => [{ address: target, family: 4 }]);
    try {
      await expect(rebinding.check(`http://erp.example:${port}/`)).resolves.toBeUndefined();
      target = '127.0.0.1';
      await expect(
        postWebhook(`http://erp.example:${port}/`, {}, '{}', {
          policy: rebinding,
          timeoutMs: 2000,
        }),
      ).rejects.toThrow(WebhookTargetError);
      await expect(
        postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { policy: rebinding, timeoutMs: 2000 }),
      ).rejects.toThrow(/loopback/);
      expect(hits).toBe(0);
      // Allowed explicitly, the same name is delivered to.
      const allowing = new WebhookTargetPolicy(['127.0.0.0/8'], async () => [
        { address: '127.0.0.1', family: 4 },
      ]);
      expect(
        await postWebhook(`http://erp.example:${port}/`, {}, '{}', {
          policy: allowing,
          timeoutMs: 2000,
        }),
      ).toBe(204);
      expect(hits).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('does not follow redirects to where the policy would not send it', async () => {
    const server: Server = createServer((_request, response) =>
      response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const policy = new WebhookTargetPolicy(['127.0.0.0/8']);
      expect(
        await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { policy, timeoutMs: 2000 }),
      ).toBe(307);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stops start-up on a network that is not CIDR, naming it', async () => {
    expect(() => new WebhookTargetPolicy(['127.0.0.0/8', 'localhost'])).toThrow(
      'webhooks.allowNetworks[1]: "localhost" is not a network in CIDR notation',
    );
    expect(() => new WebhookTargetPolicy(['10.0.0.0/33'])).toThrow(/allowNetworks\[0\]/);
    const scratch = scratchSqlite();
    const db = await scratch.open();
    const bus = new InProcessBus();
    try {
      await expect(
        createErpGateway(
          {
            site: 'demo',
            cell: 'cell-1',
            steps: ['nitration'],
            recipe: 'paracetamol',
            product: 'paracetamol',
            db,
            bus,
            modelsDir: tmpdir(),
            webhooks: { allowNetworks: ['fe80::/129'] },
          },
          { logger: false },
        ),
      ).rejects.toThrow(/webhooks\.allowNetworks\[0\]/);
    } finally {
      await db.close();
      await scratch.dispose();
    }
    const dir = mkdtempSync(join(tmpdir(), 'pipac-gateway-config-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      'site: demo\ncell: cell-1\nrecipe: r.yaml\nmodels: models\ndatabase: sqlite:cell.sqlite\nkafkaBrokers: [127.0.0.1:9092]\nwebhooks: { allowNetworks: [127.0.0.1] }\n',
    );
    expect(() => loadGatewayConfig(file, {})).toThrow(
      `${file}: webhooks.allowNetworks[0]: "127.0.0.1" is not a network in CIDR notation`,
    );
    writeFileSync(
      file,
      'site: demo\ncell: cell-1\nrecipe: r.yaml\nmodels: models\ndatabase: sqlite:cell.sqlite\nkafkaBrokers: [127.0.0.1:9092]\nwebhooks: { allowNetworks: [127.0.0.0/8] }\n',
    );
    expect(loadGatewayConfig(file, {}).webhooks.allowNetworks).toEqual(['127.0.0.0/8']);
  });
});
