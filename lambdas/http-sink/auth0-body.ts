import { arrayElements } from '../ingest/raw-detail.ts';

/**
 * The logs in one POST from an Auth0 HTTP log stream, each as the text Auth0 sent, in the stream's content format:
 * - JSON array (`JSONARRAY`): `[{log}, {log}, ...]`;
 * - JSON lines (`JSONLINES`): one log per line;
 * - JSON object (`JSONOBJECT`): one log as a JSON object, or several as the values of one object
 *   (`{"0": {log}, "1": {log}}`), which is how some Auth0 releases batch this format.
 * The format is recognised from the body, so a stream switched from one format to another needs no redeploy. A log is
 * `{"log_id": ..., "data": {...}}`; checking its fields is ingest's, which quarantines a bad one with its reason.
 */
export type Auth0Body =
  | { readonly ok: true; readonly logs: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const looksLikeLog = (value: unknown): boolean => isObject(value) && Object.hasOwn(value, 'log_id');

export const splitAuth0Body = (body: string): Auth0Body => {
  const text = body.trim();
  if (text === '')
    return { ok: false, reason: 'empty body: expected Auth0 logs as a JSON array, JSON lines or a JSON object' };
  let whole: unknown;
  let parsed = true;
  try {
    whole = JSON.parse(text);
  } catch {
    parsed = false;
  }
  if (parsed) {
    if (Array.isArray(whole)) return { ok: true, logs: arrayElements(text) ?? [] };
    if (looksLikeLog(whole)) return { ok: true, logs: [text] };
    if (isObject(whole)) {
      const values = Object.values(whole);
      if (values.length > 0 && values.every(looksLikeLog)) {
        return { ok: true, logs: values.map((value) => JSON.stringify(value)) };
      }
    }
    return {
      ok: false,
      reason: 'not Auth0 logs: a JSON value that is neither an array, a log ({"log_id", "data"}) nor an object of logs',
    };
  }
  // JSON lines: every non-empty line one JSON value.
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  for (const [index, line] of lines.entries()) {
    try {
      JSON.parse(line);
    } catch {
      return {
        ok: false,
        reason: `not JSON: line ${index + 1} of the body is neither JSON nor part of a JSON document`,
      };
    }
  }
  return { ok: true, logs: lines.map((line) => line.trim()) };
};
