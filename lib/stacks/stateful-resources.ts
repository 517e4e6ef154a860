import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ArchiveBucket, type ArchiveLockMode } from '../constructs/archive-bucket.ts';
import { ArchiveQuery } from '../constructs/archive-query.ts';
import { EncryptedTopic } from '../constructs/encrypted-topic.ts';
import { PipelineTable, type TableCapacity } from '../constructs/pipeline-table.ts';

export interface StatefulResourcesProps {
  readonly archiveRetentionDays: number;
  readonly archiveTransitionDays: number;
  /** S3 Object Lock on the archive, with archiveRetentionDays as each version's retention. @default 'governance' */
  readonly archiveLockMode?: ArchiveLockMode;
  readonly notificationEmail?: string;
  /** How the tables that take a request per event (events, detector) are billed. @default on-demand */
  readonly tableCapacity?: TableCapacity;
}

/**
 * Everything that holds data or identity: tables, archive, topics and their keys. Kept apart from compute so their
 * construct paths, and so their logical IDs, do not move when the compute changes.
 */
export class StatefulResources extends Construct {
  /**
   * Dedupe records and staged events, by `pk` and `sk`. Its stream hands items TTL deleted to the rescue function,
   * which stages again any event whose window was not yet sealed.
   */
  public readonly eventsTable: PipelineTable;
  /** One claim per (alert rule, event), so an alert is published once. */
  public readonly alertClaimsTable: PipelineTable;
  /** The windows of stateful alert rules, by `pk` (rule, group, window) and `sk` (event or value). */
  public readonly detectorTable: PipelineTable;
  public readonly archive: ArchiveBucket;
  /**
   * Athena over the archive in place: `databaseName`, `tableName`, `workGroupName` and saved audit queries. It grants
   * nothing; `grantQuery` gives a principal what querying needs.
   */
  public readonly archiveQuery: ArchiveQuery;
  /** Security alerts raised by alert rules. */
  public readonly alertTopic: EncryptedTopic;
  /** The pipeline's own health alarms. */
  public readonly operationsTopic: EncryptedTopic;

  constructor(scope: Construct, id: string, props: StatefulResourcesProps) {
    super(scope, id);
    this.eventsTable = new PipelineTable(this, 'EventsTable', {
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      capacity: props.tableCapacity,
    });
    // One claim per alert: too few requests for provisioned capacity ever to cost less.
    this.alertClaimsTable = new PipelineTable(this, 'AlertClaimsTable');
    this.detectorTable = new PipelineTable(this, 'DetectorTable', {
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      capacity: props.tableCapacity,
    });
    this.archive = new ArchiveBucket(this, 'Archive', {
      retentionDays: props.archiveRetentionDays,
      transitionDays: props.archiveTransitionDays,
      lockMode: props.archiveLockMode ?? 'governance',
    });
    this.archiveQuery = new ArchiveQuery(this, 'ArchiveQuery', {
      archiveBucket: this.archive.bucket,
      accessLogsBucket: this.archive.accessLogsBucket,
    });
    this.alertTopic = new EncryptedTopic(this, 'AlertTopic', {
      displayName: 'Okta security alerts',
      notificationEmail: props.notificationEmail,
    });
    this.operationsTopic = new EncryptedTopic(this, 'OperationsTopic', {
      displayName: 'Okta log pipeline operations',
      notificationEmail: props.notificationEmail,
      allowCloudWatchAlarms: true,
    });
  }
}
