import type { z } from 'zod';
import { HttpProblem } from './problem.js';

/** Parses a request part with its schema, or answers 400 with the path of every problem. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw HttpProblem.invalid(result.error, where === 'body' ? [] : [where]);
  return result.data;
}
