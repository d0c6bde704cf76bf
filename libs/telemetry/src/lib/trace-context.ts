import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

/**
 * Trace context across the bus: W3C `traceparent` in the message headers (DESIGN.md), set by
 * whoever publishes inside a span, read by whoever consumes. Without Telemetry.start the
 * propagator is the API's no-op: nothing is written, nothing read, and spans are no-ops.
 */
const tracer = () => trace.getTracer('pipac');

const headerGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

/** The active span's context, to continue later (a link or a parent), or undefined. */
export function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** Writes the active (or the given) context into message headers. */
export function injectTraceContext(
  headers: Record<string, string>,
  from: Context = context.active(),
): Record<string, string> {
  propagation.inject(from, headers);
  return headers;
}

/** The context carried by message headers (the root context when there is none). */
export function extractTraceContext(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

export interface SpanOptions {
  kind?: SpanKind;
  /** The parent: a context (extracted from headers) or a span context. @default the active context */
  parent?: Context | SpanContext;
  attributes?: Attributes;
  links?: Link[];
}

/**
 * Runs `fn` inside a new span (active, so what it publishes carries it); an error marks the
 * span and is rethrown; the span ends when `fn` settles.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const parent =
    options.parent === undefined
      ? context.active()
      : 'traceId' in options.parent
        ? trace.setSpanContext(ROOT_CONTEXT, options.parent)
        : options.parent;
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

export { SpanKind };
export type { SpanContext };
