import type { z } from 'zod';

/** One problem in an input, with the JSON path of what is wrong (e.g. `stages[1].actions[0].run`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Renders a property path the way people write it in JSON: `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function toFieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));
}
