import { shortForTerminal } from '../../lambdas/shared/escape-text.ts';
import { OKTA, sourceOfEnvelope } from '../../lambdas/shared/log-sources.ts';
import { networkFailureReason, redactSecrets } from '../http/http-basics.ts';
import { type Destination, forwardingPlan, type LoadedDestination, SECRET_FIELDS } from '../rules/destinations.ts';

/**
 * `olp local --forward`: each event a forwarding rule matched is sent to its destinations as the deployed API
 * destination sends it (the System Log event, `detail`, as the JSON body; the connection's credentials), with a few
 * retries. A delivery that still fails is reported, never thrown: the run goes on and its summary lists it.
 */

/** A destination secret's JSON fields (apiKey; username and password; clientId and clientSecret). */
export type SecretFields = Readonly<Record<string, string>>;

/** A destination whose secret is missing or unreadable. The message names the secret and where it was looked for. */
export class ForwardingSecretsError extends Error {
  override readonly name = 'ForwardingSecretsError';
}

/** The environment variable that holds a secret locally: OLP_SECRET_ and its name, e.g. OLP_SECRET_OLP_WORKFLOWS. */
export const secretVariable = (secretName: string): string =>
  `OLP_SECRET_${secretName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** JSON text as an object of strings, or why not; never quotes the text, which holds credentials. */
const fieldsOf = (value: unknown): Record<string, unknown> | string => {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return 'is not JSON';
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : 'is not a JSON object';
};

/** The secrets file: `{ "<secret name>": { "<field>": "<value>" } }` (a value may also be the secret's JSON text). */
const readSecretsFile = (file: { readonly name: string; readonly text: string }): Record<string, unknown> => {
  const secrets = fieldsOf(file.text);
  if (typeof secrets === 'string') {
    throw new ForwardingSecretsError(`${file.name} ${secrets}: it must map secret names to their JSON fields`);
  }
  return secrets;
};

/**
 * Each destination's secret, by secret name: from its environment variable (`secretVariable`) or else the secrets
 * file, each holding the JSON that Secrets Manager holds deployed. Refuses a missing secret or field up front.
 */
export function readDestinationSecrets(
  destinations: readonly Destination[],
  sources: { readonly env: NodeJS.ProcessEnv; readonly secretsFile?: { readonly name: string; readonly text: string } },
): Map<string, SecretFields> {
  const file = sources.secretsFile === undefined ? {} : readSecretsFile(sources.secretsFile);
  const secrets = new Map<string, SecretFields>();
  for (const { name, auth } of destinations) {
    const variable = secretVariable(auth.secretName);
    const where = sources.secretsFile === undefined ? variable : `${variable} or ${sources.secretsFile.name}`;
    const raw = sources.env[variable] ?? file[auth.secretName];
    if (raw === undefined || raw === '') {
      throw new ForwardingSecretsError(
        `destination ${name} needs secret ${auth.secretName}: set ${where} to its JSON ` +
          `(${SECRET_FIELDS[auth.type].map((field) => `"${field}": "..."`).join(', ')})`,
      );
    }
    const fields = fieldsOf(raw);
    if (typeof fields === 'string') {
      throw new ForwardingSecretsError(`destination ${name}: secret ${auth.secretName} in ${where} ${fields}`);
    }
    for (const field of SECRET_FIELDS[auth.type]) {
      const value = fields[field];
      if (typeof value !== 'string' || value === '') {
        throw new ForwardingSecretsError(
          `destination ${name}: secret ${auth.secretName} in ${where} has no "${field}" (a non-empty string)`,
        );
      }
    }
    secrets.set(auth.secretName, fields as SecretFields);
  }
  return secrets;
}

/** One event a destination did not get, and why. */
export interface ForwardFailure {
  readonly destination: string;
  readonly ruleId: string;
  /** The event's id: the System Log event's uuid, the Auth0 log's log_id. */
  readonly eventId: string;
  readonly reason: string;
}

/** What was forwarded, by destination. */
export interface ForwardingReport {
  readonly delivered: ReadonlyMap<string, number>;
  readonly failed: ReadonlyMap<string, number>;
  /** The first failures, with their reasons (at most MAX_FAILURES_KEPT). */
  readonly failures: readonly ForwardFailure[];
}

export interface ForwarderOptions {
  readonly destinations: readonly Destination[];
  /** Alert rule id -> the destinations its matched events go to. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  /** Each destination's secret, by secret name (`readDestinationSecrets`). */
  readonly secrets: ReadonlyMap<string, SecretFields>;
  /** Waits between attempts; tests pass one that does not wait. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Requests in flight at once. @default 4 */
  readonly concurrency?: number;
}

/** Attempts per event and destination: a few, so a run against a dead endpoint still ends. */
const MAX_ATTEMPTS = 3;
/** The wait before the second attempt, doubled before each further one. */
const BACKOFF_MS = 250;
/** EventBridge gives an endpoint 5 seconds to answer. */
const TIMEOUT_MS = 5000;

/** Failures kept with their reasons; more are only counted. */
const MAX_FAILURES_KEPT = 100;
/** A destination that failed this many events in a row is not tried again in this run. */
const MAX_CONSECUTIVE_FAILURES = 10;

/** Statuses worth another attempt: the endpoint may answer differently a moment later. */
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

interface Job {
  readonly destination: Destination;
  readonly ruleId: string;
  readonly envelope: Readonly<Record<string, unknown>>;
}

/** A request that got no usable answer, or an answer worth trying again. */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** Sends matched events to their destinations, a few at a time, as they are submitted. */
export class EventForwarder {
  private readonly byName: ReadonlyMap<string, Destination>;
  private readonly queue: Job[] = [];
  private running = 0;
  private idle: Array<() => void> = [];
  private readonly delivered = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private readonly failures: ForwardFailure[] = [];
  private readonly consecutiveFailures = new Map<string, number>();
  private readonly tokens = new Map<string, Promise<string>>();
  private readonly secretValues: string[];

  constructor(private readonly options: ForwarderOptions) {
    this.byName = new Map(options.destinations.map((destination) => [destination.name, destination]));
    this.secretValues = [...options.secrets.values()].flatMap((fields) => Object.values(fields));
  }

  /** Whether any rule forwards. */
  get forwards(): boolean {
    return this.options.routes.size > 0;
  }

  /** Queues an event an alert rule matched for each of the rule's destinations (none for a rule without forward). */
  submit(ruleId: string, envelope: Readonly<Record<string, unknown>>): void {
    for (const name of this.options.routes.get(ruleId) ?? []) {
      const destination = this.byName.get(name);
      if (destination !== undefined) this.queue.push({ destination, ruleId, envelope });
    }
    this.pump();
  }

  /** Waits until every submitted event was delivered or failed, and says what happened. */
  async settle(): Promise<ForwardingReport> {
    if (this.running > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    return { delivered: this.delivered, failed: this.failed, failures: this.failures };
  }

  private pump(): void {
    while (this.running < (this.options.concurrency ?? 4)) {
      const job = this.queue.shift();
      if (job === undefined) break;
      this.running++;
      void this.deliver(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) {
          const waiting = this.idle;
          this.idle = [];
          for (const resolve of waiting) resolve();
        }
      });
    }
  }

  private async deliver(job: Job): Promise<void> {
    const { name } = job.destination;
    const reason =
      (this.consecutiveFailures.get(name) ?? 0) >= MAX_CONSECUTIVE_FAILURES
        ? `not tried: the destination failed ${MAX_CONSECUTIVE_FAILURES} events in a row`
        : await this.send(job);
    if (reason === undefined) {
      this.delivered.set(name, (this.delivered.get(name) ?? 0) + 1);
      this.consecutiveFailures.set(name, 0);
      return;
    }
    this.failed.set(name, (this.failed.get(name) ?? 0) + 1);
    this.consecutiveFailures.set(name, (this.consecutiveFailures.get(name) ?? 0) + 1);
    if (this.failures.length < MAX_FAILURES_KEPT) {
      this.failures.push({
        destination: name,
        ruleId: job.ruleId,
        eventId: eventIdOf(job.envelope),
        reason: redactSecrets(reason, this.secretValues, 4),
      });
    }
  }

  /** Undefined once the destination took the event; else why it did not, after every attempt. */
  private async send(job: Job): Promise<string | undefined> {
    const body = JSON.stringify(job.envelope.detail ?? null);
    let last = '';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (attempt > 1) await this.options.sleep(BACKOFF_MS * 2 ** (attempt - 2));
      try {
        await this.attempt(job.destination, body);
        return undefined;
      } catch (error) {
        // Whatever went wrong is this event's failure, reported in the summary; the run goes on.
        const failure = error instanceof AttemptFailure ? error : new AttemptFailure((error as Error).message, false);
        last = failure.message;
        if (!failure.retry) return `${last} (not retried)`;
      }
    }
    return `${last} after ${MAX_ATTEMPTS} attempts`;
  }

  private async attempt(destination: Destination, body: string): Promise<void> {
    const headers = { 'content-type': 'application/json; charset=utf-8', ...(await this.credentials(destination)) };
    const response = await this.request(destination.url, { method: destination.method, headers, body });
    await response.body?.cancel();
    if (response.ok) return;
    // A token may have expired mid-run: the next attempt asks for a new one, as EventBridge does on a 401.
    if (response.status === 401) this.tokens.delete(destination.name);
    throw new AttemptFailure(
      `HTTP ${response.status}`,
      retryable(response.status) || (response.status === 401 && destination.auth.type === 'oauth-client-credentials'),
    );
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new AttemptFailure(
        timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : networkFailureReason(error),
        true,
      );
    }
  }

  /** The headers that authenticate a request to the destination, as its EventBridge connection would send them. */
  private async credentials(destination: Destination): Promise<Record<string, string>> {
    const { auth } = destination;
    const secret = this.options.secrets.get(auth.secretName) ?? {};
    switch (auth.type) {
      case 'api-key':
        return { [auth.header]: secret.apiKey ?? '' };
      case 'basic':
        return {
          authorization: `Basic ${Buffer.from(`${secret.username ?? ''}:${secret.password ?? ''}`).toString('base64')}`,
        };
      case 'oauth-client-credentials': {
        let token = this.tokens.get(destination.name);
        if (token === undefined) {
          token = this.requestToken(destination, secret);
          this.tokens.set(destination.name, token);
          // A failed token request is not kept: the next event asks again.
          token.catch(() => this.tokens.delete(destination.name));
        }
        return { authorization: `Bearer ${await token}` };
      }
    }
  }

  /** An access token by the client credentials grant, the client authenticating with HTTP Basic. */
  private async requestToken(destination: Destination, secret: SecretFields): Promise<string> {
    const { auth } = destination;
    if (auth.type !== 'oauth-client-credentials') throw new TypeError('not an OAuth destination');
    const parameters = new URLSearchParams({
      grant_type: 'client_credentials',
      ...(auth.scope === undefined ? {} : { scope: auth.scope }),
    });
    const client = Buffer.from(`${secret.clientId ?? ''}:${secret.clientSecret ?? ''}`).toString('base64');
    const url =
      auth.tokenMethod === 'GET'
        ? `${auth.tokenUrl}${auth.tokenUrl.includes('?') ? '&' : '?'}${parameters}`
        : auth.tokenUrl;
    const response = await this.request(url, {
      method: auth.tokenMethod,
      headers: {
        authorization: `Basic ${client}`,
        accept: 'application/json',
        ...(auth.tokenMethod === 'GET' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(auth.tokenMethod === 'GET' ? {} : { body: parameters.toString() }),
    });
    const answer = (await response.json().catch(() => undefined)) as { access_token?: unknown } | undefined;
    if (!response.ok || typeof answer?.access_token !== 'string') {
      throw new AttemptFailure(
        `token request to ${new URL(auth.tokenUrl).host} failed: ${response.ok ? 'no access_token in the answer' : `HTTP ${response.status}`}`,
        retryable(response.status),
      );
    }
    return answer.access_token;
  }
}

/**
 * The forwarder of a loaded rule set: its forwarding rules, the destinations they name, and those destinations'
 * secrets (refused up front when one is missing).
 */
export function createForwarder(
  set: {
    readonly rules: ReadonlyArray<{ readonly id: string; readonly forward?: readonly string[] | undefined }>;
    readonly destinations: readonly LoadedDestination[];
  },
  sources: { readonly env: NodeJS.ProcessEnv; readonly secretsFile?: { readonly name: string; readonly text: string } },
  sleep: (ms: number) => Promise<void>,
): EventForwarder {
  const plan = forwardingPlan(set);
  const secrets = readDestinationSecrets(plan.destinations, sources);
  return new EventForwarder({ destinations: plan.destinations, routes: plan.routes, secrets, sleep });
}

/** The id the event's own source gives it, for the summary; `(unknown)` when it has none. */
const eventIdOf = (envelope: Readonly<Record<string, unknown>>): string => {
  const detail = envelope.detail;
  if (typeof detail !== 'object' || detail === null) return '(unknown)';
  const { id } = (sourceOfEnvelope(envelope) ?? OKTA).claimedIdentity(detail as Record<string, unknown>);
  return typeof id === 'string' ? id : '(unknown)';
};

/** Failed forwards listed one by one in the summary; more are counted. */
const MAX_FAILURES_LISTED = 20;
const MAX_REASON_CHARS = 300;

const n = (value: number) => value.toLocaleString('en-US');
const total = (counts: ReadonlyMap<string, number>) => [...counts.values()].reduce((sum, count) => sum + count, 0);

/** The summary lines of `olp local --forward`, in the layout of the run's summary; every input part escaped. */
export function formatForwardingSummary(report: ForwardingReport): string {
  const perDestination = (counts: ReadonlyMap<string, number>) =>
    [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, count]) => `      ${n(count)} x ${shortForTerminal(name, 80)}`);
  const failed = total(report.failed);
  const listed = report.failures
    .slice(0, MAX_FAILURES_LISTED)
    .map(
      (failure) =>
        `      ${shortForTerminal(failure.destination, 80)}: ${shortForTerminal(failure.eventId, 80)} ` +
        `(${shortForTerminal(failure.ruleId, 80)}): ${shortForTerminal(failure.reason, MAX_REASON_CHARS)}`,
    );
  const rest = failed - listed.length;
  const rows = [
    `  forwarded              ${n(total(report.delivered))}`,
    ...perDestination(report.delivered),
    ...(failed === 0
      ? []
      : [
          `  not forwarded          ${n(failed)}`,
          ...perDestination(report.failed),
          ...listed,
          ...(rest > 0 ? [`      ... ${n(rest)} more not shown`] : []),
        ]),
  ];
  return `${rows.join('\n')}\n`;
}
