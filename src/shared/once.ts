/** `build`'s result, built on the first call and held in the closure (not on an exported object: see `definitionSchemas`). */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
