/** An answer of the REST API, its body parsed as the ERP would: untyped JSON. */
export interface RestAnswer {
  status: number;
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests probe JSON answers freely
  body: any;
}

export type RestCall = (
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<RestAnswer>;

/**
 * A minimal client of the gateway for tests: `call(method, path, key, body, headers)` against
 * `base` (…/api/v1), the key as a bearer token or in X-API-Key; a string body goes as is
 * (malformed JSON on purpose), anything else as JSON.
 */
export function restClient(base: string, keyHeader: 'bearer' | 'x-api-key' = 'bearer'): RestCall {
  return async (method, path, key, body, headers = {}) => {
    const auth: Record<string, string> = key
      ? keyHeader === 'bearer'
        ? { authorization: `Bearer ${key}` }
        : { 'x-api-key': key }
      : {};
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
  };
}
