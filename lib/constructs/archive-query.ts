import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * A Glue column type, written with Okta's field names (camelCase, as in the System Log API's LogEvent object).
 * Rendered in lower case: Glue and Athena keep column and field names in lower case, and the OpenX JSON SerDe
 * matches JSON keys to them case-insensitively.
 */
export type GlueType =
  | 'string'
  | 'int'
  | 'bigint'
  | 'double'
  | 'boolean'
  | { readonly struct: Readonly<Record<string, GlueType>> }
  | { readonly array: GlueType }
  | { readonly map: GlueType };

export interface EventColumn {
  /** The LogEvent field, as Okta spells it. */
  readonly field: string;
  readonly type: GlueType;
  readonly comment: string;
}

/** The Hive type string Glue stores, e.g. `struct<id:string,type:string>`. */
export const glueTypeString = (type: GlueType): string => {
  if (typeof type === 'string') return type;
  if ('array' in type) return `array<${glueTypeString(type.array)}>`;
  if ('map' in type) return `map<string,${glueTypeString(type.map)}>`;
  const fields = Object.entries(type.struct).map(([name, field]) => `${name.toLowerCase()}:${glueTypeString(field)}`);
  return `struct<${fields.join(',')}>`;
};

const geographicalContext: GlueType = {
  struct: {
    city: 'string',
    state: 'string',
    country: 'string',
    postalCode: 'string',
    geolocation: { struct: { lat: 'double', lon: 'double' } },
  },
};
/**
 * Free-form objects (`detailEntry`, `debugData`, `transaction.detail`): values are strings, or the JSON text of
 * whatever else Okta put there. Okta says debugData keys and values may change between releases.
 */
const freeForm: GlueType = { map: 'string' };

/** The System Log event, field by field (developer.okta.com, System Log API, LogEvent object). */
export const EVENT_COLUMNS: readonly EventColumn[] = [
  { field: 'uuid', type: 'string', comment: 'Unique identifier of the event' },
  { field: 'published', type: 'string', comment: 'When the event was published, ISO 8601 UTC' },
  { field: 'eventType', type: 'string', comment: 'Type of the event, e.g. user.session.start' },
  { field: 'version', type: 'string', comment: 'Versioning indicator' },
  { field: 'severity', type: 'string', comment: 'DEBUG, INFO, WARN or ERROR' },
  { field: 'displayMessage', type: 'string', comment: 'Human-readable description of the event' },
  { field: 'legacyEventType', type: 'string', comment: 'Associated Events API action' },
  {
    field: 'actor',
    type: {
      struct: { id: 'string', type: 'string', alternateId: 'string', displayName: 'string', detailEntry: freeForm },
    },
    comment: 'Who performed the action',
  },
  {
    field: 'client',
    type: {
      struct: {
        userAgent: { struct: { rawUserAgent: 'string', os: 'string', browser: 'string' } },
        geographicalContext,
        zone: 'string',
        ipAddress: 'string',
        device: 'string',
        id: 'string',
      },
    },
    comment: 'The client that made the request',
  },
  { field: 'outcome', type: { struct: { result: 'string', reason: 'string' } }, comment: 'Result and reason' },
  {
    field: 'target',
    type: {
      array: {
        struct: {
          id: 'string',
          type: 'string',
          alternateId: 'string',
          displayName: 'string',
          detailEntry: freeForm,
          // `from` and `to` objects of any shape: kept as JSON text, read with json_extract.
          changeDetails: 'string',
        },
      },
    },
    comment: 'The entities the action was performed on',
  },
  {
    field: 'transaction',
    type: { struct: { type: 'string', id: 'string', detail: freeForm } },
    comment: 'The transaction (WEB or JOB) the event belongs to',
  },
  {
    field: 'debugContext',
    type: { struct: { debugData: freeForm } },
    comment: 'Additional details; keys and values are not a stable contract',
  },
  {
    field: 'authenticationContext',
    type: {
      struct: {
        authenticationProvider: 'string',
        credentialProvider: 'string',
        credentialType: 'string',
        issuer: { struct: { id: 'string', type: 'string' } },
        interface: 'string',
        authenticationStep: 'int',
        externalSessionId: 'string',
      },
    },
    comment: 'How the actor authenticated',
  },
  {
    field: 'securityContext',
    type: {
      struct: { asNumber: 'bigint', asOrg: 'string', isp: 'string', domain: 'string', isProxy: 'boolean' },
    },
    comment: 'Network facts about the client IP',
  },
  {
    field: 'request',
    type: {
      struct: {
        ipChain: {
          array: { struct: { ip: 'string', geographicalContext, version: 'string', source: 'string' } },
        },
      },
    },
    comment: 'The IP addresses the request passed through',
  },
];

/** The archive's key layout (lambdas/shared/archive-layout.ts): `archive/dt=YYYY-MM-DD/hour=HH/window=.../<part>`. */
export const ARCHIVE_PREFIX = 'archive/';
/** Projected partition values: `dt` a UTC date, `hour` the UTC hour with two digits. */
const projected = (key: string): string => `\${${key}}`;
const PARTITION_PATH = `dt=${projected('dt')}/hour=${projected('hour')}/`;

/**
 * Where Athena reads a partition: every object under the hour, so the `window=<start>/` folders below it are read
 * too. That includes each window's `manifest.json`, which is not an event: see {@link EVENT_FILES_ONLY}.
 */
export const locationTemplate = (bucketName: string): string => `s3://${bucketName}/${ARCHIVE_PREFIX}${PARTITION_PATH}`;

/** The first day partition projection knows. Archived events from earlier days cannot be queried. */
export const DEFAULT_FIRST_DAY = '2020-01-01';

/**
 * Keeps rows from the event parts (`events.jsonl.gz`, `late-NNNN.jsonl.gz`) and drops the manifests that share
 * their folders. Athena reads every object under a partition and cannot skip files by a table setting; the
 * manifests (pretty-printed JSON) are read as rows whose columns are all null (`ignore.malformed.json`), and this
 * predicate on the `$path` pseudo-column removes them. Every query on the table should carry it.
 */
export const EVENT_FILES_ONLY = `"$path" LIKE '%.jsonl.gz'`;

export const EVENTS_TABLE_NAME = 'events';

export interface ArchiveNamedQuery {
  /** The construct id of the saved query. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** What each `?` placeholder is, in order; Athena asks for these values when the query runs. */
  readonly parameters: readonly string[];
  readonly sql: string;
}

const PERIOD = ["first day, a quoted UTC date like '2026-11-01'", "last day, inclusive, like '2026-11-30'"] as const;
const publishedAt = 'from_iso8601_timestamp(published) AS published_at';
const inPeriod = `dt BETWEEN ? AND ?\n  AND ${EVENT_FILES_ONLY}`;

/** Saved queries for common audit questions; each scans only the days asked for. */
export const NAMED_QUERIES: readonly ArchiveNamedQuery[] = [
  {
    id: 'PrivilegeGrants',
    name: 'Admin privileges granted in a period',
    description: 'user.account.privilege.grant and group.privilege.grant: who granted which admin role to whom',
    parameters: PERIOD,
    sql: `SELECT
  ${publishedAt},
  eventtype,
  actor.alternateid AS granted_by,
  transform(target, t -> concat(coalesce(t.type, ''), ' ', coalesce(t.alternateid, t.displayname, ''))) AS granted_to,
  -- The OpenX JSON SerDe may lower-case map keys, so both spellings are looked up.
  coalesce(
    element_at(debugcontext.debugdata, 'privilegeGranted'),
    element_at(debugcontext.debugdata, 'privilegegranted')
  ) AS privilege,
  outcome.result AS outcome,
  client.ipaddress AS ip_address,
  uuid
FROM ${EVENTS_TABLE_NAME}
WHERE ${inPeriod}
  AND eventtype IN ('user.account.privilege.grant', 'group.privilege.grant')
ORDER BY published_at, uuid`,
  },
  {
    id: 'UserSignIns',
    name: 'Sign-ins of a user',
    description: 'user.session.start events of one user (actor.alternateId, e.g. an email address), with outcome',
    parameters: [...PERIOD, "the user's sign-in name, quoted, like 'jane@acme.com' (case does not matter)"],
    sql: `SELECT
  ${publishedAt},
  outcome.result AS outcome,
  outcome.reason AS reason,
  client.ipaddress AS ip_address,
  client.geographicalcontext.city AS city,
  client.geographicalcontext.country AS country,
  client.useragent.rawuseragent AS user_agent,
  securitycontext.isproxy AS via_proxy,
  authenticationcontext.externalsessionid AS session_id,
  uuid
FROM ${EVENTS_TABLE_NAME}
WHERE ${inPeriod}
  AND eventtype = 'user.session.start'
  AND lower(actor.alternateid) = lower(?)
ORDER BY published_at, uuid`,
  },
  {
    id: 'EventsFromIp',
    name: 'Events from an IP address',
    description: 'Every event whose client.ipAddress is the given address, in a period',
    parameters: [...PERIOD, "the IP address, quoted, like '198.51.100.24'"],
    sql: `SELECT
  ${publishedAt},
  eventtype,
  actor.alternateid AS actor,
  displaymessage,
  outcome.result AS outcome,
  client.useragent.rawuseragent AS user_agent,
  uuid
FROM ${EVENTS_TABLE_NAME}
WHERE ${inPeriod}
  AND client.ipaddress = ?
ORDER BY published_at, uuid`,
  },
  {
    id: 'LogStreamLifecycle',
    name: 'Log stream lifecycle',
    description: 'system.log_stream.* events: log streams created, updated, activated, deactivated or deleted',
    parameters: PERIOD,
    sql: `SELECT
  ${publishedAt},
  eventtype,
  actor.alternateid AS actor,
  transform(target, t -> coalesce(t.displayname, t.id)) AS log_streams,
  outcome.result AS outcome,
  displaymessage,
  uuid
FROM ${EVENTS_TABLE_NAME}
WHERE ${inPeriod}
  AND starts_with(eventtype, 'system.log_stream.')
ORDER BY published_at, uuid`,
  },
];

export interface ArchiveQueryProps {
  /** The archive; the table reads `archive/` in it. */
  readonly archiveBucket: s3.IBucket;
  /** Receives the results bucket's server access logs, under `athena-results/`. */
  readonly accessLogsBucket: s3.IBucket;
  /** First day (yyyy-MM-dd) partition projection generates; the last is today (UTC). @default '2020-01-01' */
  readonly firstDay?: string;
  /** Days query results are kept. @default 30 */
  readonly resultRetentionDays?: number;
  /** Athena cancels a query of the workgroup once it has scanned this many bytes. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /** For the results bucket. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const GIB = 1024 ** 3;
/** Athena's smallest per-query cutoff (10 MB). */
const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

/** A setting the archive query cannot have. */
export class ArchiveQueryError extends Error {
  override readonly name = 'ArchiveQueryError';
}

/** A Glue/Athena name from the stack name: lower-case letters, digits and `_`, as Athena wants. */
const athenaName = (stackName: string, suffix: string): string =>
  `${stackName.toLowerCase().replaceAll(/[^a-z0-9]+/g, '_')}_${suffix}`;

/**
 * Queries the archive in place with Athena: a Glue database and table over `archive/` (partition projection on
 * `dt` and `hour`, no crawler, no partitions to add), an Athena workgroup that enforces its settings (results in
 * a bucket of its own, SSE-S3, a bytes-scanned cutoff per query, engine version 3, CloudWatch metrics), and saved
 * queries for common audit questions. Nothing gets a permission: Athena runs with the caller's; `grantQuery` gives
 * a principal exactly what querying needs.
 */
export class ArchiveQuery extends Construct {
  public readonly database: glue.CfnDatabase;
  public readonly table: glue.CfnTable;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly resultsBucket: s3.Bucket;
  public readonly namedQueries: readonly athena.CfnNamedQuery[];
  public readonly databaseName: string;
  public readonly tableName = EVENTS_TABLE_NAME;
  public readonly workGroupName: string;
  private readonly archiveBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ArchiveQueryProps) {
    super(scope, id);
    const firstDay = props.firstDay ?? DEFAULT_FIRST_DAY;
    const day = new Date(`${firstDay}T00:00:00Z`);
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(firstDay) ||
      Number.isNaN(day.getTime()) ||
      day.toISOString().slice(0, 10) !== firstDay
    ) {
      throw new ArchiveQueryError(`${this.node.path}: firstDay "${firstDay}" must be a date like 2020-01-01`);
    }
    const bytesScannedCutoff = props.bytesScannedCutoffPerQuery ?? 10 * GIB;
    if (!Number.isInteger(bytesScannedCutoff) || bytesScannedCutoff < MIN_BYTES_SCANNED_CUTOFF) {
      throw new ArchiveQueryError(
        `${this.node.path}: bytesScannedCutoffPerQuery must be an integer of at least ${MIN_BYTES_SCANNED_CUTOFF}`,
      );
    }
    const stack = Stack.of(this);
    this.archiveBucket = props.archiveBucket;
    this.databaseName = athenaName(stack.stackName, 'archive');
    this.workGroupName = `${stack.stackName}-archive`;

    this.resultsBucket = new s3.Bucket(this, 'Results', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(props.resultRetentionDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.databaseName,
        description: 'Okta System Log archive, queried in place',
      },
    });

    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.database.ref,
      tableInput: {
        name: EVENTS_TABLE_NAME,
        description: 'Archived Okta System Log events, one row per event; filter on dt and on "$path"',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'json',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${firstDay},NOW`,
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': locationTemplate(props.archiveBucket.bucketName),
        },
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'UTC day of the window, yyyy-MM-dd' },
          { name: 'hour', type: 'int', comment: 'UTC hour of the window, 0-23' },
        ],
        storageDescriptor: {
          location: `s3://${props.archiveBucket.bucketName}/${ARCHIVE_PREFIX}`,
          columns: EVENT_COLUMNS.map(({ field, type, comment }) => ({
            name: field.toLowerCase(),
            type: glueTypeString(type),
            comment,
          })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: {
              // A manifest line is not a JSON object: a row of nulls instead of a failed query.
              'ignore.malformed.json': 'true',
              'case.insensitive': 'true',
              'dots.in.keys': 'false',
            },
          },
        },
      },
    });

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries on the Okta System Log archive; settings enforced',
      state: 'ENABLED',
      // Saved queries of users go with the workgroup when the stack is deleted, instead of blocking the delete.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: bytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });

    this.namedQueries = NAMED_QUERIES.map(
      (query) =>
        new athena.CfnNamedQuery(this, query.id, {
          name: query.name,
          description: `${query.description}. Parameters: ${query.parameters.join('; ')}.`,
          database: this.database.ref,
          workGroup: this.workGroup.ref,
          queryString: query.sql,
        }),
    );
  }

  /**
   * Lets a principal run queries in the workgroup and nothing more: the workgroup's Athena actions, the Glue
   * table's metadata, reading `archive/` (and decrypting it, if the archive has a KMS key), and writing and reading
   * query results in the results bucket. No deletes anywhere.
   */
  public grantQuery(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const allow = (actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>) =>
      iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions });
    allow(
      [
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetQueryResultsStream',
        'athena:ListQueryExecutions',
        'athena:GetWorkGroup',
        'athena:GetNamedQuery',
        'athena:BatchGetNamedQuery',
        'athena:ListNamedQueries',
      ],
      [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName })],
    );
    allow(
      ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${this.tableName}` }),
      ],
    );
    allow(['s3:GetObject'], [this.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`)]);
    allow(['s3:ListBucket'], [this.archiveBucket.bucketArn], { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } });
    allow(['s3:GetBucketLocation'], [this.archiveBucket.bucketArn, this.resultsBucket.bucketArn]);
    this.archiveBucket.encryptionKey?.grantDecrypt(grantee);
    allow(
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      [this.resultsBucket.arnForObjects('*')],
    );
    allow(['s3:ListBucket', 's3:ListBucketMultipartUploads'], [this.resultsBucket.bucketArn]);
  }
}
