import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { WebhookTargetError, type WebhookTargetPolicy } from './webhook-target-policy';

/**
 * POSTs one webhook delivery and answers the receiver's status code. The target policy is
 * applied to the address actually connected to (its `lookup` runs when the socket opens, so a
 * name re-pointed at a refused address after the subscription is caught), and redirects are
 * not followed (a 3xx counts as a failed attempt): a receiver cannot send the gateway on to
 * an address the policy would refuse. fetch offers neither.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { policy: WebhookTargetPolicy; timeoutMs: number },
): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  // Node connects to an IP literal without calling `lookup`.
  if (isIP(host)) {
    const reason = options.policy.refusal(host);
    if (reason) throw new WebhookTargetError(reason);
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: options.policy.lookup(),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response: IncomingMessage) => {
        // Drain the body so the connection can be reused.
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
