import { z } from 'zod';

/**
 * An Auth0 tenant log as a log stream delivers it: `{"log_id": ..., "data": {...}}` (Auth0 docs, "Log Streams",
 * event schema). Strict only where the pipeline depends on a field: `log_id` (dedupe key), `data.date` (ordering) and
 * `data.type` (the log type code alert rules match). Everything else is kept as Auth0 sent it.
 */

export const AUTH0_SOURCE_PREFIX = 'aws.partner/auth0.com/';
export const AUTH0_DETAIL_TYPE = 'Auth0 log';

/** Auth0's log ids are long digit strings; letters, `_` and `-` are accepted too, as ids Auth0 may change to. */
const LOG_ID = /^[A-Za-z0-9_-]{1,128}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const TYPE_CODE = /^[a-z0-9_]{1,64}$/;

export const Auth0LogCore = z.looseObject({
  log_id: z.string().regex(LOG_ID, 'must be an Auth0 log id (letters, digits, _ or -, at most 128)'),
  data: z.looseObject({
    date: z
      .string()
      .regex(ISO_INSTANT, 'must be an ISO-8601 instant with an offset, e.g. 2026-12-01T10:00:00.000Z')
      .refine((value) => Number.isFinite(Date.parse(value)), 'must be a real date and time'),
    type: z.string().regex(TYPE_CODE, 'must be an Auth0 log type code, e.g. f, fp, gd_auth_failed, sapi'),
  }),
});
export type Auth0LogCore = z.infer<typeof Auth0LogCore>;
