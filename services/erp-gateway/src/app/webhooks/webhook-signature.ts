import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every webhook delivery. */
export const WEBHOOK_HEADERS = {
  id: 'pipac-event-id',
  type: 'pipac-event-type',
  timestamp: 'pipac-timestamp',
  signature: 'pipac-signature',
} as const;

/**
 * `v1=<hex>`: HMAC-SHA256 with the subscription's secret over `<timestamp>.<body>`. Signing the
 * timestamp with the body lets a receiver refuse replays of old deliveries (as Stripe's and
 * Standard Webhooks' schemes do).
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${timestampSeconds}.${body}`, 'utf8')
    .digest('hex');
  return `v1=${mac}`;
}

/** For receivers (and the tests): checks the signature and that the timestamp is recent. */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const timestamp = Number(headers[WEBHOOK_HEADERS.timestamp]);
  const signature = headers[WEBHOOK_HEADERS.signature];
  if (!Number.isInteger(timestamp) || typeof signature !== 'string') return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const presented = Buffer.from(signature);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
