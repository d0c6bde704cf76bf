import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** An address as the resolver gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has. @default dns.lookup with `all: true` */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

/** A refused webhook target: `code` for the edge, `reason` for the caller. */
export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
  readonly retriable = false;

  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebhookTargetError';
  }
}

/** A bad `webhooks.allowNetworks` entry: start-up stops naming it. */
export class WebhookPolicyConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;

  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'WebhookPolicyConfigError';
  }
}

/**
 * Networks a webhook may not reach unless the operator allows them: the gateway's own host,
 * link-local (where cloud metadata services answer: 169.254.169.254, fd00:ec2::254) and
 * addresses that are no host at all. A webhook is an HTTP request the gateway makes on a
 * caller's behalf; without this, an `erp` key could make it call the host's own services or
 * read cloud credentials (SSRF, OWASP API7:2023). Private networks (10/8, 172.16/12,
 * 192.168/16, fc00::/7) stay allowed: the ERP lives there.
 */
const REFUSED: readonly { network: string; what: string }[] = [
  { network: '127.0.0.0/8', what: 'a loopback address' },
  { network: '::1/128', what: 'a loopback address' },
  {
    network: '169.254.0.0/16',
    what: 'a link-local address (cloud metadata services answer there)',
  },
  { network: 'fe80::/10', what: 'a link-local address' },
  { network: '100.100.100.200/32', what: 'a cloud metadata address' },
  { network: 'fd00:ec2::254/128', what: 'a cloud metadata address' },
  { network: '0.0.0.0/8', what: 'not a host address ("this network")' },
  { network: '::/128', what: 'not a host address (unspecified)' },
  { network: '224.0.0.0/4', what: 'a multicast address' },
  { network: 'ff00::/8', what: 'a multicast address' },
  { network: '255.255.255.255/32', what: 'the broadcast address' },
];

/**
 * Decides which addresses webhooks may be delivered to: the REFUSED networks unless the
 * operator allows one explicitly (`webhooks.allowNetworks`, CIDR; @default none). It is
 * applied when a subscription is made (the URL's host, and every address its name resolves
 * to) and again on every delivery, at connection time, to the address actually connected to
 * (a name that resolved to a public address at subscription may resolve to 127.0.0.1 later:
 * DNS rebinding).
 */
export class WebhookTargetPolicy {
  private readonly allowed = new BlockList();
  private readonly refused: { list: BlockList; what: string }[];

  constructor(
    allowNetworks: readonly string[] = [],
    private readonly resolve: HostResolver = resolveAll,
  ) {
    allowNetworks.forEach((cidr, i) =>
      addNetwork(this.allowed, cidr, `webhooks.allowNetworks[${i}]`),
    );
    this.refused = REFUSED.map(({ network, what }) => {
      const list = new BlockList();
      addNetwork(list, network, network);
      return { list, what };
    });
  }

  /** Why `address` (an IP address) may not be delivered to, or undefined when it may. */
  refusal(address: string): string | undefined {
    const plain = address.replace(/%.*$/, ''); // an IPv6 zone index is no part of the address
    const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(plain, family)) return undefined;
    const hit = this.refused.find((r) => r.list.check(plain, family));
    return hit
      ? `${address} is ${hit.what}; allow its network in webhooks.allowNetworks`
      : undefined;
  }

  /** Throws WebhookTargetError unless every address `url`'s host stands for may be reached. */
  async check(url: string): Promise<void> {
    const host = hostOf(url);
    const addresses = isIP(host) ? [host] : await this.addressesOf(host);
    for (const address of addresses) {
      const reason = this.refusal(address);
      if (reason) {
        throw new WebhookTargetError(isIP(host) ? reason : `${host} resolves to ${reason}`);
      }
    }
  }

  /**
   * A `lookup` for http.request that resolves as usual and fails the connection when any
   * address is refused. Node skips `lookup` for IP literals: `check` covers those first.
   */
  lookup(): LookupFunction {
    return (hostname, options, callback) => {
      this.addressesOf(hostname).then(
        (addresses) => {
          const refused = addresses.map((a) => this.refusal(a)).find((r) => r !== undefined);
          if (refused)
            return callback(new WebhookTargetError(`${hostname} resolves to ${refused}`), '', 0);
          const family = options.family === 4 || options.family === 6 ? options.family : 0;
          const usable = addresses.filter((a) => family === 0 || isIP(a) === family);
          if (usable.length === 0) {
            return callback(new WebhookTargetError(`${hostname} has no address`), '', 0);
          }
          if (options.all) {
            // The typings know only the one-address form of the callback.
            (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(
              null,
              usable.map((address) => ({ address, family: isIP(address) })),
            );
          } else {
            callback(null, usable[0]!, isIP(usable[0]!));
          }
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
      );
    };
  }

  private async addressesOf(host: string): Promise<string[]> {
    const resolved = await this.resolve(host).catch(() => {
      throw new WebhookTargetError(`${host} does not resolve`);
    });
    if (resolved.length === 0) throw new WebhookTargetError(`${host} does not resolve`);
    return resolved.map((r) => r.address);
  }
}

/** The URL's host as an address or a name (IPv6 literals lose their brackets). */
function hostOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookTargetError('not a URL');
  }
  return parsed.hostname.replace(/^\[(.*)\]$/, '$1');
}

function resolveAll(host: string): Promise<ResolvedAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

function addNetwork(list: BlockList, cidr: string, field: string): void {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  const address = match?.[1] ?? '';
  const family = isIP(address);
  const prefix = Number(match?.[2]);
  if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new WebhookPolicyConfigError(
      `${field}: "${cidr}" is not a network in CIDR notation (e.g. 10.20.0.0/16 or fd00::/8)`,
      field,
    );
  }
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}
