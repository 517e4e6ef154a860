import { readFileSync } from 'node:fs';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { ArchiveBucket, ArchiveLockError, LONGEST_LOCK_DAYS } from '../../lib/constructs/archive-bucket.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';
import { StatefulResources } from '../../lib/stacks/stateful-resources.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling. */
const newApp = () =>
  new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });

const idOf = (construct: IConstruct) => Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

interface BucketProperties {
  ObjectLockEnabled?: boolean;
  ObjectLockConfiguration?: { ObjectLockEnabled: string; Rule: { DefaultRetention: { Mode: string; Days: number } } };
  VersioningConfiguration?: { Status: string };
  LifecycleConfiguration: {
    Rules: { Id: string; ExpirationInDays?: number; NoncurrentVersionExpiration?: { NoncurrentDays: number } }[];
  };
}

const propertiesOf = (template: Template, bucket: IConstruct): BucketProperties =>
  template.toJSON().Resources[idOf(bucket)].Properties;

/** The stateful resources as the stack builds them, from config values as `-c` delivers them. */
const statefulFrom = (context: Record<string, string>) => {
  const config = parseConfig({ eventSourceName: SOURCE, ...context });
  const stack = new Stack(newApp(), 'Stateful');
  const stateful = new StatefulResources(stack, 'Stateful', {
    archiveRetentionDays: config.archiveRetentionDays,
    archiveTransitionDays: config.archiveTransitionDays,
    archiveLockMode: config.archiveLockMode,
  });
  const template = Template.fromStack(stack);
  return { archive: propertiesOf(template, stateful.archive.bucket), stateful, template };
};

describe('archive Object Lock in the deployed stack', () => {
  let stack: OktaLogPipelineStack;
  let template: Template;

  beforeAll(() => {
    stack = new OktaLogPipelineStack(newApp(), 'OktaLogPipeline', {
      config: parseConfig({ eventSourceName: SOURCE }),
      alertRules: [],
    });
    template = Template.fromStack(stack);
  });

  it('locks every new archive version in governance mode for archiveRetentionDays (7 years) by default', () => {
    expect(propertiesOf(template, stack.stateful.archive.bucket)).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2557 } },
      },
    });
  });

  it('never sets the top-level ObjectLockEnabled flag, which makes CloudFormation replace an existing bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: Match.anyValue(),
      ObjectLockEnabled: Match.absent(),
    });
    expect(JSON.stringify(template.findResources('AWS::S3::Bucket'))).not.toContain('"ObjectLockEnabled":true');
  });

  it('leaves the access-log and query-result buckets unlocked (S3 delivers no access logs to a locked bucket)', () => {
    for (const bucket of [stack.stateful.archive.accessLogsBucket, stack.stateful.archiveQuery.resultsBucket]) {
      expect(propertiesOf(template, bucket).ObjectLockConfiguration).toBeUndefined();
    }
  });

  it('expires current objects no sooner than their lock ends', () => {
    const archive = propertiesOf(template, stack.stateful.archive.bucket);
    const tiering = archive.LifecycleConfiguration.Rules.find((rule) => rule.Id === 'archive-tiering');
    expect(tiering?.ExpirationInDays).toBe(archive.ObjectLockConfiguration?.Rule.DefaultRetention.Days);
  });

  it('gives no principal a way around the lock: no retention, legal-hold, lock-configuration or bypass action', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toMatch(/Retention|LegalHold|ObjectLock|BypassGovernance|"s3:\*"|s3:Delete/);
  });
});

describe('archiveLockMode from config to the archive bucket', () => {
  it.each([
    [{}, 'GOVERNANCE', 2557],
    [{ archiveLockMode: 'governance', archiveRetentionDays: '400' }, 'GOVERNANCE', 400],
    [{ archiveLockMode: 'compliance' }, 'COMPLIANCE', 2557],
    [{ archiveLockMode: 'compliance', archiveRetentionDays: '3653' }, 'COMPLIANCE', 3653],
  ])('%j locks in %s mode for %i days, and expires current objects on the same day', (context, mode, days) => {
    // Act
    const { archive, stateful } = statefulFrom(context);

    // Assess
    expect(archive.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: mode, Days: days } },
    });
    expect(archive.LifecycleConfiguration.Rules[0]?.ExpirationInDays).toBe(days);
    expect(stateful.archive.lockRetentionDays).toBe(days);
  });

  it('off: versioned, no lock, lifecycle as before', () => {
    const { archive, stateful } = statefulFrom({ archiveLockMode: 'off' });
    expect(archive.ObjectLockConfiguration).toBeUndefined();
    expect(archive.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(archive.LifecycleConfiguration.Rules[0]).toMatchObject({
      ExpirationInDays: 2557,
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
    });
    expect(stateful.archive.lockMode).toBe('off');
    expect(stateful.archive.lockRetentionDays).toBeUndefined();
  });

  it('an archive kept forever (0) is locked in governance mode for the longest retention S3 takes, and never expires', () => {
    const { archive } = statefulFrom({ archiveRetentionDays: '0' });
    expect(archive.ObjectLockConfiguration?.Rule.DefaultRetention).toEqual({
      Mode: 'GOVERNANCE',
      Days: LONGEST_LOCK_DAYS,
    });
    expect(archive.LifecycleConfiguration.Rules[0]?.ExpirationInDays).toBeUndefined();
  });

  it('keeps the archive bucket and its access-log bucket where they were, whatever the mode', () => {
    for (const archiveLockMode of ['governance', 'compliance', 'off']) {
      const { stateful } = statefulFrom({ archiveLockMode });
      expect([idOf(stateful.archive.bucket), idOf(stateful.archive.accessLogsBucket)]).toEqual([
        'StatefulArchive7D3A05C0',
        'StatefulArchiveAccessLogsFBA5D61D',
      ]);
    }
  });
});

describe('ArchiveBucket lock guard', () => {
  it('refuses a compliance lock on an archive kept forever: it could never be lifted', () => {
    const stack = new Stack(newApp(), 'Guard');
    expect(() => new ArchiveBucket(stack, 'Archive', { lockMode: 'compliance', retentionDays: 0 })).toThrow(
      ArchiveLockError,
    );
    expect(() => new ArchiveBucket(stack, 'Archive2', { lockMode: 'compliance', retentionDays: 0 })).toThrow(
      /Guard\/Archive2: a compliance-mode Object Lock needs a positive retentionDays/,
    );
  });

  it('locks by default when used on its own', () => {
    const stack = new Stack(newApp(), 'Alone');
    const archive = new ArchiveBucket(stack, 'Archive', { retentionDays: 90, transitionDays: 30 });
    expect(propertiesOf(Template.fromStack(stack), archive.bucket).ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } },
    });
  });
});
