import { type FileHandle, open } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { arrayElements } from '../../lambdas/ingest/raw-detail.ts';
import { LOG_SOURCES, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import { type EnvelopeOrigin, envelopeFields, envelopeText } from '../../lambdas/shared/system-log-envelope.ts';

/**
 * Reads Okta events from a file or stdin for the local tools: JSON Lines or one JSON document (an array of events,
 * or a single pretty-printed event), plain or gzipped, each record either an EventBridge envelope or a raw System Log
 * event (as the System Log API returns them). Raw events are wrapped in the envelope Okta Log Streaming would send.
 * The System Log schema is not checked here: the pipeline's ingest does that, and quarantines with the reason.
 */

/** The partner event source given to raw System Log events when the caller names none. */
export const DEFAULT_EVENT_SOURCE = 'aws.partner/okta.com/local/okta-logs';

/** An EventBridge envelope as read: the three fields that make it one are present; their values are not checked. */
export interface OktaEnvelopeLike {
  readonly 'detail-type': unknown;
  readonly source: unknown;
  readonly detail: unknown;
  readonly [field: string]: unknown;
}

/**
 * One record of the input. `line` is the 1-based line number (JSON Lines), the 1-based index in the array (a JSON
 * array), or the line the document starts on (a single JSON object). `raw` is the record's text. `envelopeText` is the
 * envelope as the pipeline receives it: the record's own text, or a raw event's text inside the envelope built for
 * it; never re-serialised, so every digit and key of the event stays as written.
 */
export type InputRecord =
  | {
      readonly line: number;
      readonly envelope: OktaEnvelopeLike;
      readonly raw: string;
      readonly envelopeText: string;
    }
  | { readonly line: number; readonly error: string; readonly raw: string };

export interface EventInputOptions {
  /** What `-` reads; default `process.stdin`. */
  readonly stdin?: Readable;
  /** The `source` of the envelope around a raw System Log event; default {@link DEFAULT_EVENT_SOURCE}. */
  readonly eventSource?: string;
}

/** The input as a whole cannot be read: a missing path, a directory, no permission, a broken gzip stream. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

const ENVELOPE_FIELDS = ['detail-type', 'detail', 'source'] as const;
const EVENT_FIELDS = ['uuid', 'published', 'eventType'] as const;

/** What a wrapped raw event's envelope says where Okta would name a real AWS account and region. */
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const kindOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const isEnvelope = (record: Record<string, unknown>): record is Record<string, unknown> & OktaEnvelopeLike =>
  ENVELOPE_FIELDS.every((field) => Object.hasOwn(record, field));

/** The partner event source given to bare Auth0 logs (`{"log_id", "data"}`), as an Auth0 log stream would name it. */
export const DEFAULT_AUTH0_SOURCE = 'aws.partner/auth0.com/local/auth0.logs';

/** The log source a bare record (no envelope) belongs to, if any: a System Log event or an Auth0 log. */
const bareKind = (record: Record<string, unknown>): LogSource | undefined =>
  LOG_SOURCES.find((source) => source.isBareEvent(record));

/**
 * Decides what one parsed record is: an EventBridge envelope (kept as is), a raw System Log event (wrapped in the
 * envelope Okta Log Streaming would send from `eventSource`), a bare Auth0 log (wrapped as an Auth0 log stream would
 * send it, from DEFAULT_AUTH0_SOURCE), or neither (the reason).
 */
export function toEnvelope(record: unknown, eventSource: string): { envelope: OktaEnvelopeLike } | { error: string } {
  if (!isObject(record)) {
    return {
      error: `not an event: a JSON ${kindOf(record)}, expected an EventBridge envelope, a System Log event or an Auth0 log`,
    };
  }
  if (isEnvelope(record)) return { envelope: record };
  const kind = bareKind(record);
  if (kind !== undefined) {
    const origin = localOrigin(kind === OKTA ? eventSource : DEFAULT_AUTH0_SOURCE);
    return { envelope: { ...envelopeFields(record, origin, kind), detail: record } };
  }
  const missing = (fields: readonly string[]): string =>
    fields.filter((field) => !Object.hasOwn(record, field)).join(', ');
  const asEvent = missing(EVENT_FIELDS);
  return {
    error:
      `not an event: neither an EventBridge envelope (missing ${missing(ENVELOPE_FIELDS)}), a System Log event ` +
      `(${asEvent === '' ? 'it has a detail field' : `missing ${asEvent}`}) nor an Auth0 log (${missing(['log_id', 'data']) === '' ? 'it has a detail field' : `missing ${missing(['log_id', 'data'])}`})`,
  };
}

const flatten = (text: string): string => text.replace(/\s*\n\s*/g, ' ');
const messageOf = (error: unknown): string => flatten(error instanceof Error ? error.message : String(error));

function recordOf(line: number, raw: string, eventSource: string): InputRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { line, error: `not JSON: ${messageOf(error)}`, raw };
  }
  return recordOfValue(line, value, raw, eventSource);
}

function recordOfValue(line: number, value: unknown, raw: string, eventSource: string): InputRecord {
  const kind = toEnvelope(value, eventSource);
  if (!('envelope' in kind)) return { line, error: kind.error, raw };
  return { line, envelope: kind.envelope, raw, envelopeText: textOf(kind.envelope, value, raw) };
}

/** The envelope's text: the record's own when it is one; else the built envelope with the event's text as `detail`. */
const textOf = (envelope: OktaEnvelopeLike, record: unknown, raw: string): string => {
  if (envelope === record) return raw;
  const event = record as Record<string, unknown>;
  return envelopeText(event, raw, localOrigin(String(envelope.source)), bareKind(event) ?? OKTA);
};

const localOrigin = (source: string): EnvelopeOrigin => ({ source, account: LOCAL_ACCOUNT, region: LOCAL_REGION });

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

function* lineRecords(lines: readonly string[], firstLine: number, eventSource: string): Generator<InputRecord> {
  for (const [index, text] of lines.entries()) {
    if (text.trim() !== '') yield recordOf(firstLine + index, text, eventSource);
  }
}

/** The index of the line a JSON.parse error points at (V8 says `at position N` for most errors). */
function failedLineIndex(error: unknown, text: string): number {
  const position = /at position (\d+)/.exec(messageOf(error))?.[1];
  if (position === undefined) return 0;
  return text.slice(0, Number(position)).split('\n').length - 1;
}

/**
 * The records of an input read whole: a JSON array (one record per element), a single JSON object, or JSON Lines
 * whose first value happens to be an array.
 */
function* documentRecords(lines: readonly string[], firstLine: number, eventSource: string): Generator<InputRecord> {
  const text = lines.join('\n');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (parses(lines[0] ?? '')) {
      yield* lineRecords(lines, firstLine, eventSource);
      return;
    }
    const index = failedLineIndex(error, text);
    yield { line: firstLine + index, error: `not JSON: ${messageOf(error)}`, raw: lines[index] ?? '' };
    return;
  }
  if (!Array.isArray(value)) {
    yield recordOfValue(firstLine, value, text, eventSource);
    return;
  }
  const texts = arrayElements(text) ?? [];
  for (const [index, item] of value.entries()) {
    yield recordOfValue(index + 1, item, texts[index] ?? JSON.stringify(item), eventSource);
  }
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not an event file',
  ENOTDIR: 'a part of the path is not a directory',
};

const codeOf = (error: unknown): string | undefined =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;

async function openInput(source: string, stdin: Readable | undefined): Promise<{ name: string; stream: Readable }> {
  if (source === '-') return { name: 'stdin', stream: stdin ?? process.stdin };
  let handle: FileHandle;
  try {
    handle = await open(source, 'r');
  } catch (error) {
    throw new InputError(`${source}: ${FILE_ERRORS[codeOf(error) ?? ''] ?? messageOf(error)}`, { cause: error });
  }
  // Linux opens a directory for reading without complaint; reading it would fail later with a vaguer message.
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new InputError(`${source}: ${FILE_ERRORS.EISDIR}`);
  }
  return { name: source, stream: handle.createReadStream() };
}

const toBuffer = (chunk: unknown): Buffer => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));

async function* prepend(head: Buffer, rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
      yield toBuffer(next.value);
    }
  } finally {
    await rest.return?.();
  }
}

/** The input's bytes, gunzipped on the fly when the name ends in `.gz` or the data starts with the gzip magic. */
async function decompressed(stream: Readable, gzipByName: boolean): Promise<Readable> {
  const chunks = stream[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await chunks.next();
    if (next.done === true) break;
    head = Buffer.concat([head, toBuffer(next.value)]);
  }
  const bytes = Readable.from(prepend(head, chunks), { objectMode: false });
  if (!gzipByName && !(head[0] === 0x1f && head[1] === 0x8b)) return bytes;
  return pipeline(bytes, createGunzip(), () => {
    // Errors reach the reader: pipeline destroys the gunzip stream with them.
  });
}

const describeReadError = (error: unknown): string =>
  codeOf(error)?.startsWith('Z_') === true ? `not valid gzip data (${messageOf(error)})` : messageOf(error);

/**
 * The records of `source` (a path, or `-` for stdin), one by one. JSON Lines are streamed line by line, so inputs far
 * larger than memory work; a JSON document (the first non-blank line starts with `[` or is a lone `{`) is read whole.
 * A bad record is yielded with its reason and reading goes on; an input that cannot be read throws {@link InputError}.
 */
export async function* readEventInput(source: string, options: EventInputOptions = {}): AsyncGenerator<InputRecord> {
  const eventSource = options.eventSource ?? DEFAULT_EVENT_SOURCE;
  const { name, stream } = await openInput(source, options.stdin);
  let input: Readable | undefined;
  let lines: Interface | undefined;
  try {
    input = await decompressed(stream, /\.gz$/i.test(source));
    lines = createInterface({ input, crlfDelay: Infinity });
    let mode: 'undecided' | 'lines' | 'document' = 'undecided';
    const document: string[] = [];
    let documentLine = 0;
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber += 1;
      const text = lineNumber === 1 ? line.replace(/^\uFEFF/, '') : line;
      if (mode === 'document') {
        document.push(text);
        continue;
      }
      const trimmed = text.trim();
      if (trimmed === '') continue;
      if (mode === 'undecided') {
        mode = trimmed.startsWith('[') || trimmed === '{' ? 'document' : 'lines';
        if (mode === 'document') {
          document.push(text);
          documentLine = lineNumber;
          continue;
        }
      }
      yield recordOf(lineNumber, text, eventSource);
    }
    if (mode === 'document') yield* documentRecords(document, documentLine, eventSource);
  } catch (error) {
    throw new InputError(`${name}: ${describeReadError(error)}`, { cause: error });
  } finally {
    // Top of the chain first: it unwinds the streams below it without an unheard 'Premature close' error.
    lines?.close();
    input?.destroy();
    stream.destroy();
  }
}
