/**
 * Compiles generated source once per distinct text. Plants built from one recipe (many
 * environments in training, the benchmark's several plants) then share one function per
 * piece of generated code, so V8 optimises it once and call sites that see several plants
 * stay monomorphic (a fresh `new Function` per instance is a new function to V8).
 * Only the generators in this library reach it, and they put only numbers and integer
 * indices into their source.
 */
const factories = new Map<string, (...args: unknown[]) => unknown>();

export function compileGenerated<T>(
  parameters: readonly string[],
  source: string,
): (...args: unknown[]) => T {
  const key = `${parameters.join(',')}\n${source}`;
  let factory = factories.get(key);
  if (!factory) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- numbers and indices only, see above
    factory = new Function(...parameters, source) as (...args: unknown[]) => unknown;
    factories.set(key, factory);
  }
  return factory as (...args: unknown[]) => T;
}
