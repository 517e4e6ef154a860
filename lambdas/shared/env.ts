import type { z } from 'zod';
import { describeIssues } from './okta-event.ts';

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Reads a function's environment once, at cold start, through its schema; a bad deployment fails loudly. */
export const readEnv = <T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> => {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new EnvironmentError(`invalid function environment: ${describeIssues(parsed.error)}`);
  return parsed.data;
};
