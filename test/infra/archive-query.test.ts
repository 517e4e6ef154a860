import { readdirSync, readFileSync } from 'node:fs';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { latePartKey, mainPartKey, manifestKey, windowPrefix } from '../../lambdas/shared/archive-layout.ts';
import { parseConfig } from '../../lib/config.ts';
import {
  ArchiveQuery,
  ArchiveQueryError,
  DEFAULT_FIRST_DAY,
  EVENT_COLUMNS,
  EVENT_FILES_ONLY,
  type GlueType,
  glueTypeString,
  NAMED_QUERIES,
} from '../../lib/constructs/archive-query.ts';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling. */
const newApp = () =>
  new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });

const idOf = (construct: IConstruct): string => {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
};
const ref = (construct: IConstruct) => ({ Ref: idOf(construct) });

/** A stack with only an archive bucket, its access-log bucket and the query construct. */
const queryStack = (props: { firstDay?: string; bytesScannedCutoffPerQuery?: number; kms?: boolean } = {}) => {
  const stack = new Stack(newApp(), 'Audit');
  const accessLogsBucket = new s3.Bucket(stack, 'AccessLogs');
  const archiveBucket = new s3.Bucket(stack, 'Archive', {
    encryption: props.kms === true ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
  });
  const query = new ArchiveQuery(stack, 'Query', { archiveBucket, accessLogsBucket, ...props });
  return { stack, query, archiveBucket, accessLogsBucket };
};

describe('ArchiveQuery in the pipeline stack', () => {
  let stack: OktaLogPipelineStack;
  let template: Template;
  let tableInput: {
    Parameters: Record<string, unknown>;
    PartitionKeys: unknown[];
    StorageDescriptor: { Columns: { Name: string; Type: string }[] };
  };

  beforeAll(() => {
    const config = parseConfig({ eventSourceName: SOURCE });
    stack = new OktaLogPipelineStack(newApp(), 'OktaLogPipeline', { config, alertRules: [] });
    template = Template.fromStack(stack);
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables).toHaveLength(1);
    tableInput = tables[0]?.Properties.TableInput;
  });

  it('names a Glue database after the stack, in the lower case Athena wants, and exposes the names', () => {
    const query = stack.stateful.archiveQuery;
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'oktalogpipeline_archive' },
    });
    expect(query.databaseName).toBe('oktalogpipeline_archive');
    expect(query.tableName).toBe('events');
    expect(query.workGroupName).toBe('OktaLogPipeline-archive');
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: ref(query.database) });
  });

  it('reads archive/ of the archive bucket as gzipped JSON lines with the OpenX SerDe, no crawler', () => {
    const archive = ref(stack.stateful.archive.bucket);
    expect(tableInput).toMatchObject({
      Name: 'events',
      TableType: 'EXTERNAL_TABLE',
      StorageDescriptor: {
        Location: { 'Fn::Join': ['', ['s3://', archive, '/archive/']] },
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        SerdeInfo: {
          SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
          // Manifests share the partition folders: their lines must become null rows, not a failed query.
          Parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
        },
      },
    });
    template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  it('projects dt (yyyy-MM-dd) and hour (0-23, two digits) onto the archive layout', () => {
    expect(tableInput.PartitionKeys).toEqual([
      expect.objectContaining({ Name: 'dt', Type: 'string' }),
      expect.objectContaining({ Name: 'hour', Type: 'int' }),
    ]);
    expect(tableInput.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': `${DEFAULT_FIRST_DAY},NOW`,
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': {
        'Fn::Join': ['', ['s3://', ref(stack.stateful.archive.bucket), `/archive/dt=\${dt}/hour=\${hour}/`]],
      },
    });
  });

  it('declares the System Log fields in lower case, with nested structs and an array of targets', () => {
    const columns = Object.fromEntries(tableInput.StorageDescriptor.Columns.map((c) => [c.Name, c.Type]));
    expect(Object.keys(columns)).toEqual([
      'uuid',
      'published',
      'eventtype',
      'version',
      'severity',
      'displaymessage',
      'legacyeventtype',
      'actor',
      'client',
      'outcome',
      'target',
      'transaction',
      'debugcontext',
      'authenticationcontext',
      'securitycontext',
      'request',
    ]);
    expect(columns.actor).toBe(
      'struct<id:string,type:string,alternateid:string,displayname:string,detailentry:map<string,string>>',
    );
    expect(columns.client).toContain('useragent:struct<rawuseragent:string,os:string,browser:string>');
    expect(columns.client).toContain('geographicalcontext:struct<city:string,');
    expect(columns.client).toContain('ipaddress:string');
    expect(columns.target).toMatch(/^array<struct<id:string,type:string,alternateid:string,/);
    expect(columns.debugcontext).toBe('struct<debugdata:map<string,string>>');
    expect(columns.request).toMatch(/^struct<ipchain:array<struct<ip:string,/);
  });

  it('gives the workgroup enforced settings: results bucket, SSE-S3, bytes-scanned cutoff, engine 3, metrics', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'OktaLogPipeline-archive',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', ref(stack.stateful.archiveQuery.resultsBucket), '/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    });
  });

  it('keeps results in their own encrypted, TLS-only, private, logged bucket that expires them', () => {
    const results = stack.stateful.archiveQuery.resultsBucket;
    expect(template.toJSON().Resources[idOf(results)]).toMatchObject({
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 30 })] },
        LoggingConfiguration: {
          DestinationBucketName: ref(stack.stateful.archive.accessLogsBucket),
          LogFilePrefix: 'athena-results/',
        },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(results),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('saves each audit query in the workgroup, on the database', () => {
    const query = stack.stateful.archiveQuery;
    template.resourceCountIs('AWS::Athena::NamedQuery', NAMED_QUERIES.length);
    for (const named of NAMED_QUERIES) {
      template.hasResourceProperties('AWS::Athena::NamedQuery', {
        Name: named.name,
        Database: ref(query.database),
        WorkGroup: ref(query.workGroup),
        QueryString: named.sql,
      });
    }
  });

  it('grants nothing to anyone in the stack: no policy names Athena, Glue or the results bucket', () => {
    const policies = JSON.stringify([
      template.findResources('AWS::IAM::Policy'),
      template.findResources('AWS::IAM::Role'),
      template.findResources('AWS::IAM::ManagedPolicy'),
    ]);
    expect(policies).not.toMatch(/athena:|glue:/);
    expect(policies).not.toContain(idOf(stack.stateful.archiveQuery.resultsBucket));
  });
});

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

describe('ArchiveQuery.grantQuery', () => {
  const statementsOf = (template: Template) =>
    Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );

  it('gives a principal the workgroup, the table metadata, archive/ read-only and its results, nothing more', () => {
    // Prepare
    const { stack, query, archiveBucket } = queryStack();
    const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    query.grantQuery(auditor);

    // Assess
    const statements = statementsOf(Template.fromStack(stack));
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions).toContain('athena:StartQueryExecution');
    expect(actions).toContain('glue:GetTable');
    expect(actions.filter((a) => /Delete|\*|Retention|ObjectLock|Bypass/.test(a))).toEqual([]);
    const archiveObjects = statements.find(
      (s) => [s.Action].flat().includes('s3:GetObject') && JSON.stringify(s.Resource).includes(idOf(archiveBucket)),
    );
    expect(archiveObjects?.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(archiveBucket), 'Arn'] }, '/archive/*']],
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:ListBucket',
        Condition: { StringLike: { 's3:prefix': ['archive/*'] } },
        Resource: { 'Fn::GetAtt': [idOf(archiveBucket), 'Arn'] },
      }),
    );
    const athena = statements.find((s) => [s.Action].flat().includes('athena:StartQueryExecution'));
    expect(JSON.stringify(athena?.Resource)).toContain(':workgroup/Audit-archive');
    expect(JSON.stringify(statements)).not.toContain('quarantine');
  });

  it('lets the principal decrypt the archive when it has a KMS key', () => {
    const { stack, query } = queryStack({ kms: true });
    const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });
    query.grantQuery(auditor);
    const actions = statementsOf(Template.fromStack(stack)).flatMap((s) => [s.Action].flat() as string[]);
    expect(actions).toContain('kms:Decrypt');
  });
});

describe('ArchiveQuery settings', () => {
  it('takes the first projected day and the bytes-scanned cutoff', () => {
    const { stack } = queryStack({ firstDay: '2024-06-01', bytesScannedCutoffPerQuery: 50_000_000 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Parameters: Match.objectLike({ 'projection.dt.range': '2024-06-01,NOW' }) },
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 50_000_000 }),
    });
  });

  it.each([
    [{ firstDay: '2024-6-1' }, /firstDay "2024-6-1" must be a date like 2020-01-01/],
    [{ firstDay: '2024-13-01' }, /firstDay "2024-13-01" must be a date/],
    [{ firstDay: '2024-02-30' }, /firstDay "2024-02-30" must be a date/],
    [{ bytesScannedCutoffPerQuery: 9_999_999 }, /bytesScannedCutoffPerQuery must be an integer of at least 10000000/],
  ])('refuses %j', (props, message) => {
    expect(() => queryStack(props)).toThrow(ArchiveQueryError);
    expect(() => queryStack(props)).toThrow(message);
  });
});

/** Renders the table's location template as Athena does for one partition, from the table's own parameters. */
const renderPartition = (parameters: Record<string, string>, bucketName: string, windowStart: number): string => {
  expect(parameters['projection.dt.format']).toBe('yyyy-MM-dd');
  const iso = new Date(windowStart).toISOString();
  const dt = iso.slice(0, 10);
  const hour = String(new Date(windowStart).getUTCHours()).padStart(Number(parameters['projection.hour.digits']), '0');
  const [first = '', last = ''] = (parameters['projection.dt.range'] ?? '').split(',');
  expect(dt >= first && last === 'NOW').toBe(true);
  const [low, high] = (parameters['projection.hour.range'] ?? '').split(',').map(Number);
  expect(Number(hour)).toBeGreaterThanOrEqual(low ?? Number.NaN);
  expect(Number(hour)).toBeLessThanOrEqual(high ?? Number.NaN);
  const template = parameters['storage.location.template'] ?? '';
  expect(template.startsWith(`s3://${bucketName}/`)).toBe(true);
  return template.replace(`\${dt}`, dt).replace(`\${hour}`, hour);
};

/** SQL LIKE as a regular expression: % is any run of characters, _ any one character. */
const likeToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${[...pattern].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`,
  );

describe('the table over the archive layout', () => {
  let parameters: Record<string, string>;

  beforeAll(() => {
    // A plain bucket name, so the template resolves to a string and can be rendered.
    const stack = new Stack(newApp(), 'Layout');
    const archiveBucket = s3.Bucket.fromBucketName(stack, 'Archive', 'acme-archive');
    const accessLogsBucket = new s3.Bucket(stack, 'AccessLogs');
    new ArchiveQuery(stack, 'Query', { archiveBucket, accessLogsBucket });
    const table = Object.values(Template.fromStack(stack).findResources('AWS::Glue::Table'))[0];
    parameters = table?.Properties.TableInput.Parameters;
  });

  it.each([
    ['2026-11-22T09:05:00Z'],
    ['2026-11-22T00:00:00Z'],
    ['2026-12-31T23:59:50Z'],
    ['2027-01-01T00:00:10Z'],
    ['2020-01-01T07:00:00Z'],
  ])('puts the window starting %s, its parts and its manifest under the partition Athena reads', (start) => {
    // Prepare
    const windowStart = Date.parse(start);

    // Act
    const location = renderPartition(parameters, 'acme-archive', windowStart);

    // Assess: the window folder sits under the hour partition, so Athena reads it.
    const partition = location.replace('s3://acme-archive/', '');
    expect(windowPrefix(windowStart).startsWith(partition)).toBe(true);
    expect(windowPrefix(windowStart).slice(partition.length)).toMatch(/^window=[^/]+\/$/);
    for (const key of [mainPartKey(windowStart), latePartKey(windowStart, 1), manifestKey(windowStart)]) {
      expect(key.startsWith(partition)).toBe(true);
    }
  });

  it("keeps the event parts and drops the manifests with the queries' $path filter", () => {
    // Prepare
    const like = /"\$path" LIKE '([^']+)'/.exec(EVENT_FILES_ONLY)?.[1] ?? '';
    const windowStart = Date.parse('2026-11-22T09:05:00Z');
    const path = (key: string) => `s3://acme-archive/${key}`;

    // Act
    const keeps = likeToRegExp(like);

    // Assess
    expect(keeps.test(path(mainPartKey(windowStart)))).toBe(true);
    expect(keeps.test(path(latePartKey(windowStart, 12)))).toBe(true);
    expect(keeps.test(path(manifestKey(windowStart)))).toBe(false);
  });
});

/** Every `a.b.c` path a column type allows, lower case, arrays looked through. */
const fieldPaths = (type: GlueType, prefix: string): string[] => {
  if (typeof type === 'string') return [prefix];
  if ('array' in type) return fieldPaths(type.array, prefix);
  if ('map' in type) return [prefix];
  return [
    prefix,
    ...Object.entries(type.struct).flatMap(([name, field]) => fieldPaths(field, `${prefix}.${name.toLowerCase()}`)),
  ];
};
/** The same paths as Okta spells them. */
const oktaPaths = (type: GlueType, prefix: string): string[] => {
  if (typeof type === 'string') return [prefix];
  if ('array' in type) return oktaPaths(type.array, prefix);
  if ('map' in type) return [prefix];
  return [prefix, ...Object.entries(type.struct).flatMap(([name, field]) => oktaPaths(field, `${prefix}.${name}`))];
};
const KNOWN_PATHS = new Set(EVENT_COLUMNS.flatMap(({ field, type }) => fieldPaths(type, field.toLowerCase())));
const SQL_WORDS = new Set(
  'select from where and or in as order by between lower like coalesce concat element_at transform starts_with from_iso8601_timestamp'.split(
    ' ',
  ),
);

describe('the saved queries', () => {
  it.each(NAMED_QUERIES.map((q) => [q.name, q] as const))('%s: scan only the days asked for, events only', (_, q) => {
    // One ? per declared parameter, and none hidden in a comment.
    expect(q.sql.match(/\?/g)).toHaveLength(q.parameters.length);
    expect(q.sql.split('\n').filter((line) => line.trim().startsWith('--') && line.includes('?'))).toEqual([]);
    expect(q.sql).toContain('WHERE dt BETWEEN ? AND ?');
    expect(q.sql).toContain(EVENT_FILES_ONLY);
    expect(q.sql).toMatch(/\bFROM events\b/);
    expect(q.sql).not.toMatch(/;\s*$/);
    expect(q.name.length).toBeLessThanOrEqual(128);
  });

  it.each(NAMED_QUERIES.map((q) => [q.name, q] as const))('%s: name only columns and fields the table has', (_, q) => {
    // Prepare: strip string literals and comments; lambda parameters (t -> t.x) stand for an array's elements.
    const code = q.sql
      .replaceAll(/'[^']*'/g, "''")
      .replaceAll(/--.*$/gm, '')
      .replaceAll('"$path"', '');
    const aliases = new Map([...code.matchAll(/transform\((\w+), (\w+) ->/g)].map((m) => [m[2] ?? '', m[1] ?? '']));
    const outputNames = new Set([...code.matchAll(/\bAS (\w+)/g)].map((m) => m[1]));

    // Act
    const unknown = [...code.matchAll(/\b[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\b/gi)]
      .map((m) => m[0])
      .filter((word) => !SQL_WORDS.has(word.toLowerCase()) && !outputNames.has(word) && !aliases.has(word))
      .filter((word) => !['dt', 'events'].includes(word))
      .map((word) => {
        const [head = '', ...rest] = word.split('.');
        return [aliases.get(head) ?? head, ...rest].join('.');
      })
      .filter((path) => !KNOWN_PATHS.has(path));

    // Assess
    expect(unknown).toEqual([]);
  });

  it('answer the audit questions the issue names', () => {
    const sqlOf = (id: string) => NAMED_QUERIES.find((q) => q.id === id)?.sql ?? '';
    expect(sqlOf('PrivilegeGrants')).toContain(
      "eventtype IN ('user.account.privilege.grant', 'group.privilege.grant')",
    );
    expect(sqlOf('UserSignIns')).toContain("eventtype = 'user.session.start'");
    expect(sqlOf('UserSignIns')).toContain('lower(actor.alternateid) = lower(?)');
    expect(sqlOf('EventsFromIp')).toContain('client.ipaddress = ?');
    expect(sqlOf('LogStreamLifecycle')).toContain("starts_with(eventtype, 'system.log_stream.')");
  });
});

/** Okta events as recorded in the fixtures and as the sample stream shapes them. */
const recordedEvents = (): Record<string, unknown>[] => {
  const fixtures = new URL('../fixtures/', import.meta.url);
  const read = (path: string) => readFileSync(new URL(path, fixtures), 'utf8');
  const envelope = JSON.parse(read('okta-eventbridge-envelope.json'));
  const ruleCases = readdirSync(new URL('rule-cases/', fixtures)).flatMap((file) => {
    const cases = JSON.parse(read(`rule-cases/${file}`));
    return [...cases.matches, ...(cases.nearMisses ?? [])].map(
      (c: { envelope: { detail: object } }) => c.envelope.detail,
    );
  });
  // This fixture holds malformed lines on purpose (the CLI quarantines them); only its events count here.
  const raw = read('cli/raw-events.jsonl')
    .split('\n')
    .flatMap((line) => {
      try {
        const event = JSON.parse(line);
        return typeof event?.eventType === 'string' ? [event] : [];
      } catch {
        return [];
      }
    });
  return [envelope.detail, ...ruleCases, ...raw, ...generateSample({ count: 500, seed: 7 }).uniqueEvents] as Record<
    string,
    unknown
  >[];
};

/**
 * Where a JSON value would fail the query under the OpenX JSON SerDe: a struct or map column needs an object (or
 * null); numbers and booleans that do not parse only read as null, but a mismatch there means the type is wrong.
 */
const mismatches = (type: GlueType, value: unknown, path: string): string[] => {
  if (value === null || value === undefined) return [];
  if (typeof type === 'string') {
    if (type === 'string') return [];
    if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${path}: ${JSON.stringify(value)} for ${type}`];
    return typeof value === 'number' ? [] : [`${path}: ${JSON.stringify(value)} for ${type}`];
  }
  if ('array' in type) {
    return Array.isArray(value) ? value.flatMap((item, i) => mismatches(type.array, item, `${path}[${i}]`)) : [];
  }
  if (typeof value !== 'object' || Array.isArray(value))
    return [`${path}: ${JSON.stringify(value)} for ${glueTypeString(type)}`];
  if ('map' in type) return [];
  const entries = Object.entries(value as Record<string, unknown>);
  return Object.entries(type.struct).flatMap(([name, field]) =>
    mismatches(field, entries.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1], `${path}.${name}`),
  );
};

describe('the table schema against recorded Okta events', () => {
  const events = recordedEvents();

  it('reads every recorded event without a type the SerDe would refuse', () => {
    expect(events.length).toBeGreaterThan(500);
    const found = events.flatMap((event) =>
      EVENT_COLUMNS.flatMap(({ field, type }) => mismatches(type, event[field], field)),
    );
    expect([...new Set(found)]).toEqual([]);
  });

  it('spells every field as Okta does: each occurs in a recorded event, or is in the reference only', () => {
    // Prepare: every key path the recorded events hold, case kept.
    const seen = new Set<string>();
    const walk = (value: unknown, path: string) => {
      if (Array.isArray(value)) for (const item of value) walk(item, path);
      else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          seen.add(`${path}${key}`);
          walk(child, `${path}${key}.`);
        }
      }
    };
    for (const event of events) walk(event, '');

    // Act
    const declared = EVENT_COLUMNS.flatMap(({ field, type }) => oktaPaths(type, field));

    // Assess
    // Named in Okta's LogEvent reference (LogTarget.changeDetails) but absent or null in every recorded event.
    expect(declared.filter((path) => !seen.has(path))).toEqual(['target.changeDetails']);
  });
});
