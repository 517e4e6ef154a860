import { generateAuth0Sample } from '../local/auth0-sample.ts';
import { generateSample, type SampleOptions, type SampleStream } from '../local/sample-stream.ts';
import { LineWriter, parseOptions, positiveInteger } from './args.ts';
import { CliError, type Command } from './io.ts';

const GENERATORS: Readonly<Record<string, (options: SampleOptions) => SampleStream>> = {
  okta: generateSample,
  auth0: generateAuth0Sample,
};

const USAGE = `Usage: olp sample [--count N] [--seed S] [--source okta|auth0]

Writes a realistic, reproducible sample of what Okta Log Streaming (or an Auth0 log stream) delivers to EventBridge
for one org or tenant, as JSON Lines of EventBridge envelopes: some events delivered twice or three times, arrival out
of published order.

Options:
  --source S  okta (default): System Log events; auth0: Auth0 tenant logs
  --count N   System Log events to generate, 1 to 1,000,000 (default 1000); redeliveries come on top
  --seed S    seed of the generator, 1 to 4294967295 (default 1); the same seed gives the same sample
  -h, --help  show this help`;

const MAX_COUNT = 1_000_000;
/** The generator keeps 32 bits of its seed: larger seeds would repeat smaller ones. */
const MAX_SEED = 0xffff_ffff;

export const sampleCommand: Command = async (args, io) => {
  const options = parseOptions(
    args,
    { count: { type: 'string' }, seed: { type: 'string' }, source: { type: 'string' } },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  const source = options.source ?? 'okta';
  const generate = Object.hasOwn(GENERATORS, source) ? GENERATORS[source] : undefined;
  if (generate === undefined) {
    throw new CliError(`--source must be okta or auth0, got ${JSON.stringify(options.source)}`, 2);
  }
  const count = positiveInteger(options.count, '--count', 1000, MAX_COUNT);
  const seed = positiveInteger(options.seed, '--seed', 1, MAX_SEED);

  const out = new LineWriter(io.stdout);
  for (const delivery of generate({ count, seed }).deliveries) {
    // The reader went away (`| head`): it has all it wanted.
    if (!(await out.line(JSON.stringify(delivery)))) return 0;
  }
  return 0;
};
