import { z } from 'zod';

/** The environment shared by the functions that stage and seal events; the stack sets it from the config. */
export const StagingEnv = z.object({
  EVENTS_TABLE_NAME: z.string().min(1),
  ARCHIVE_BUCKET_NAME: z.string().min(1),
  WINDOW_SECONDS: z.coerce.number().int().positive(),
  ALLOWED_LATENESS_SECONDS: z.coerce.number().int().nonnegative(),
  WINDOW_SHARDS: z.coerce.number().int().positive(),
  DEDUPE_RETENTION_DAYS: z.coerce.number().int().positive().default(7),
});

export const stagingSettings = (env: z.infer<typeof StagingEnv>) => ({
  windowSeconds: env.WINDOW_SECONDS,
  allowedLatenessSeconds: env.ALLOWED_LATENESS_SECONDS,
  windowShards: env.WINDOW_SHARDS,
  dedupeRetentionDays: env.DEDUPE_RETENTION_DAYS,
});
