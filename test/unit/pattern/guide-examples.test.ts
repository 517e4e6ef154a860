import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../lib/pattern/index.ts';
import { ec2StateChangeEvent } from '../../support/events.ts';

interface Case {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

const ec2Event = ec2StateChangeEvent();

const ec2TerminationPattern = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['terminated'] },
};

const autoScalingEvent = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

const macieEvent = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id',
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
  ],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: {
      'rule-arn': 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
      'alert-type': 'basic',
      risk: 8,
    },
  },
};

function runCases(cases: readonly Case[]): void {
  it.each(cases)('$name', ({ pattern, event, expected }) => {
    // Prepare
    const input = { pattern, event };

    // Act
    const matched = matchesPattern(input.pattern, input.event);

    // Assess
    expect(matched).toBe(expected);
  });
}

describe('Amazon EventBridge event patterns / Creating event patterns', () => {
  runCases([
    {
      name: 'EC2 termination pattern matches the EC2 example event',
      pattern: ec2TerminationPattern,
      event: ec2Event,
      expected: true,
    },
    {
      name: 'EC2 termination pattern does not match a running instance',
      pattern: ec2TerminationPattern,
      event: { ...ec2Event, detail: { ...ec2Event.detail, state: 'running' } },
      expected: false,
    },
    {
      name: 'source matches either aws.ec2 or aws.fargate (aws.fargate)',
      pattern: { source: ['aws.ec2', 'aws.fargate'] },
      event: { ...ec2Event, source: 'aws.fargate' },
      expected: true,
    },
    {
      name: 'source matches either aws.ec2 or aws.fargate (aws.s3 is neither)',
      pattern: { source: ['aws.ec2', 'aws.fargate'] },
      event: { ...ec2Event, source: 'aws.s3' },
      expected: false,
    },
    {
      name: 'a field named in the pattern must be present in the event',
      pattern: { detail: { 'instance-type': ['t3.micro'] } },
      event: ec2Event,
      expected: false,
    },
    {
      name: 'the field must appear with the same nesting as in the pattern',
      pattern: { state: ['terminated'] },
      event: ec2Event,
      expected: false,
    },
    {
      name: 'strings match character by character without case folding',
      pattern: { source: ['AWS.EC2'] },
      event: ec2Event,
      expected: false,
    },
    {
      name: 'strings are not normalised (trailing space)',
      pattern: { source: ['aws.ec2 '] },
      event: ec2Event,
      expected: false,
    },
    {
      name: 'a dotted key names the same field as the nested form (nested event)',
      pattern: { detail: { 'state.status': ['running'] } },
      event: { detail: { state: { status: 'running' } } },
      expected: true,
    },
    {
      name: 'a nested pattern matches an event whose key contains dots',
      pattern: { detail: { state: { status: ['running'] } } },
      event: { detail: { 'state.status': 'running' } },
      expected: true,
    },
    {
      name: 'when a field is given twice, only the last one is used',
      pattern: { detail: { state: { status: ['stopped'] }, 'state.status': ['running'] } },
      event: { detail: { state: { status: 'running' } } },
      expected: true,
    },
    {
      name: 'when a field is given twice, the earlier one is ignored',
      pattern: { detail: { state: { status: ['stopped'] }, 'state.status': ['running'] } },
      event: { detail: { state: { status: 'stopped' } } },
      expected: false,
    },
    {
      name: 'a number matches the same number',
      pattern: { detail: { 'risk-score': [80] } },
      event: macieEvent,
      expected: true,
    },
    {
      name: 'a number does not match its string form',
      pattern: { detail: { 'risk-score': ['80'] } },
      event: macieEvent,
      expected: false,
    },
    {
      name: 'true matches the JSON literal, not the string "true"',
      pattern: { detail: { enabled: [true] } },
      event: { detail: { enabled: 'true' } },
      expected: false,
    },
  ]);
});

describe('Amazon EventBridge event patterns / Example events and event patterns', () => {
  runCases([
    {
      name: 'field matching on responseElements null (Auto Scaling event)',
      pattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance Launch Successful'],
        detail: { responseElements: [null] },
      },
      event: autoScalingEvent,
      expected: true,
    },
    {
      name: 'value matching on risk-score 80 and trigger risk 8 (Macie event)',
      pattern: {
        source: ['aws.macie'],
        'detail-type': ['Macie Alert'],
        detail: { 'risk-score': [80], trigger: { risk: [8] } },
      },
      event: macieEvent,
      expected: true,
    },
    {
      name: 'value matching fails when the trigger risk differs',
      pattern: { source: ['aws.macie'], detail: { 'risk-score': [80], trigger: { risk: [9] } } },
      event: macieEvent,
      expected: false,
    },
  ]);
});

describe('Matching null values and empty strings in Amazon EventBridge event patterns', () => {
  runCases([
    {
      name: 'an empty string pattern matches eventVersion ""',
      pattern: { detail: { eventVersion: [''] } },
      event: autoScalingEvent,
      expected: true,
    },
    {
      name: 'a null pattern matches responseElements null',
      pattern: { detail: { responseElements: [null] } },
      event: autoScalingEvent,
      expected: true,
    },
    {
      name: 'an empty string pattern does not match a null value',
      pattern: { detail: { responseElements: [''] } },
      event: autoScalingEvent,
      expected: false,
    },
    {
      name: 'a null pattern does not match an empty string',
      pattern: { detail: { eventVersion: [null] } },
      event: autoScalingEvent,
      expected: false,
    },
    {
      name: 'a null pattern does not match a missing field',
      pattern: { detail: { requestParameters: [null] } },
      event: autoScalingEvent,
      expected: false,
    },
  ]);
});

describe('Arrays in Amazon EventBridge event patterns', () => {
  const pattern = {
    resources: [
      'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
    ],
  };
  runCases([
    {
      name: 'matches when the pattern array and the event array intersect',
      pattern,
      event: {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        ],
      },
      expected: true,
    },
    {
      name: 'does not match when the intersection is empty',
      pattern,
      event: {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
          'arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f',
        ],
      },
      expected: false,
    },
    {
      name: 'does not match an empty event array',
      pattern,
      event: { resources: [] },
      expected: false,
    },
  ]);
});

describe('Content filtering in Amazon EventBridge event patterns / comparison operators (summary table)', () => {
  runCases([
    {
      name: 'And: Location "New York" and Day "Monday"',
      pattern: { Location: ['New York'], Day: ['Monday'] },
      event: { Location: 'New York', Day: 'Monday' },
      expected: true,
    },
    {
      name: 'And: fails when only one field matches',
      pattern: { Location: ['New York'], Day: ['Monday'] },
      event: { Location: 'New York', Day: 'Tuesday' },
      expected: false,
    },
    {
      name: 'Anything-but: state is not "initializing"',
      pattern: { state: [{ 'anything-but': 'initializing' }] },
      event: { state: 'running' },
      expected: true,
    },
    {
      name: 'Anything-but (begins with): Region not in the US',
      pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
      event: { Region: 'us-east-1' },
      expected: false,
    },
    {
      name: 'Anything-but (ends with): FileName without .png',
      pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
      event: { FileName: 'photo.jpg' },
      expected: true,
    },
    {
      name: 'Anything-but (ignore case): state besides INITIALIZING',
      pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
      event: { state: 'INITIALIZING' },
      expected: false,
    },
    {
      name: 'Anything-but using a wildcard: FilePath not including /lib/',
      pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
      event: { FilePath: '/usr/lib/libc.so' },
      expected: false,
    },
    {
      name: 'Begins with: Region in the US',
      pattern: { Region: [{ prefix: 'us-' }] },
      event: { Region: 'us-west-2' },
      expected: true,
    },
    {
      name: 'Begins with (ignore case): service starting with "eventb"',
      pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
      event: { service: 'EventBridge' },
      expected: true,
    },
    {
      name: 'Empty: LastName is empty',
      pattern: { LastName: [''] },
      event: { LastName: '' },
      expected: true,
    },
    {
      name: 'Equals: Name is "Alice"',
      pattern: { Name: ['Alice'] },
      event: { Name: 'alice' },
      expected: false,
    },
    {
      name: 'Equals (ignore case): Name is "Alice"',
      pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
      event: { Name: 'Alice' },
      expected: true,
    },
    {
      name: 'Ends with: FileName ends with .png',
      pattern: { FileName: [{ suffix: '.png' }] },
      event: { FileName: 'image.png' },
      expected: true,
    },
    {
      name: 'Ends with (ignore case): service ends with "tbridge"',
      pattern: { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
      event: { service: 'EVENTBRIDGE' },
      expected: true,
    },
    {
      name: 'Exists: ProductName exists',
      pattern: { ProductName: [{ exists: true }] },
      event: { ProductName: 'Widget' },
      expected: true,
    },
    {
      name: 'Does not exist: ProductName does not exist',
      pattern: { ProductName: [{ exists: false }] },
      event: { ProductName: 'Widget' },
      expected: false,
    },
    {
      name: 'Not: Weather is anything but "Raining"',
      pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
      event: { Weather: 'Sunny' },
      expected: true,
    },
    {
      name: 'Null: UserID is null',
      pattern: { UserID: [null] },
      event: { UserID: null },
      expected: true,
    },
    {
      name: 'Numeric (equals): Price is 100',
      pattern: { Price: [{ numeric: ['=', 100] }] },
      event: { Price: 100 },
      expected: true,
    },
    {
      name: 'Numeric (range): Price more than 10 and at most 20 (20)',
      pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
      event: { Price: 20 },
      expected: true,
    },
    {
      name: 'Numeric (range): Price more than 10 and at most 20 (10)',
      pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
      event: { Price: 10 },
      expected: false,
    },
    {
      name: 'Or: PaymentType "Credit" or "Debit"',
      pattern: { PaymentType: ['Credit', 'Debit'] },
      event: { PaymentType: 'Debit' },
      expected: true,
    },
    {
      name: 'Or (multiple fields): Location "New York" or Day "Monday"',
      pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      event: { Location: 'Boston', Day: 'Monday' },
      expected: true,
    },
    {
      name: 'Or (multiple fields): neither field matches',
      pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      event: { Location: 'Boston', Day: 'Friday' },
      expected: false,
    },
    {
      name: 'Wildcard: a .png file within the folder "dir"',
      pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
      event: { FileName: 'dir/holiday.png' },
      expected: true,
    },
    {
      name: 'Wildcard: a .png file outside the folder "dir"',
      pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
      event: { FileName: 'other/holiday.png' },
      expected: false,
    },
  ]);
});

describe('Content filtering in Amazon EventBridge event patterns / filter types', () => {
  const numericPattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };
  const stateEvent = (detail: Record<string, unknown>) => ({
    'detail-type': ['EC2 Instance State-change Notification'],
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
    detail,
  });
  runCases([
    {
      name: 'Prefix matching: time starting with 2017-10-02',
      pattern: { time: [{ prefix: '2017-10-02' }] },
      event: { time: '2017-10-02T18:43:48Z' },
      expected: true,
    },
    {
      name: 'Prefix matching: time on another day',
      pattern: { time: [{ prefix: '2017-10-02' }] },
      event: { time: '2017-10-03T18:43:48Z' },
      expected: false,
    },
    {
      name: 'Prefix matching while ignoring case: service EVENTBRIDGE',
      pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
      event: { detail: { service: 'EVENTBRIDGE' } },
      expected: true,
    },
    {
      name: 'Prefix matching while ignoring case: service Events',
      pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
      event: { detail: { service: 'Events' } },
      expected: false,
    },
    {
      name: 'Suffix matching: FileName ending with .png',
      pattern: { FileName: [{ suffix: '.png' }] },
      event: { FileName: 'image.png.txt' },
      expected: false,
    },
    {
      name: 'Suffix matching while ignoring case: FileName ending with .PNG',
      pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
      event: { detail: { FileName: 'IMAGE.PNG' } },
      expected: true,
    },
    {
      name: 'Anything-but matching with a string: state initializing is excluded',
      pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
      event: { detail: { state: 'initializing' } },
      expected: false,
    },
    {
      name: 'Anything-but matching with a number: x-limit 456',
      pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
      event: { detail: { 'x-limit': 456 } },
      expected: true,
    },
    {
      name: 'Anything-but matching with a number: x-limit 123 is excluded',
      pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
      event: { detail: { 'x-limit': 123 } },
      expected: false,
    },
    {
      name: 'Anything-but matching with a list of strings: stopped is excluded',
      pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
      event: { detail: { state: 'stopped' } },
      expected: false,
    },
    {
      name: 'Anything-but matching with a list of strings: running passes',
      pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
      event: { detail: { state: 'running' } },
      expected: true,
    },
    {
      name: 'Anything-but matching with a list of numbers: 200 is excluded',
      pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
      event: { detail: { 'x-limit': 200 } },
      expected: false,
    },
    {
      name: 'Anything-but matching with a list of numbers: 150 passes',
      pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
      event: { detail: { 'x-limit': 150 } },
      expected: true,
    },
    {
      name: 'Anything-but prefix: state without the prefix "init"',
      pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
      event: { detail: { state: 'running' } },
      expected: true,
    },
    {
      name: 'Anything-but prefix: state with the prefix "init" is excluded',
      pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
      event: { detail: { state: 'initializing' } },
      expected: false,
    },
    {
      name: 'Anything-but suffix: FileName ending with .txt is excluded',
      pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } },
      event: { detail: { FileName: 'notes.txt' } },
      expected: false,
    },
    {
      name: 'Anything-but ignoring case: a list of excluded states (OVERLOADED)',
      pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } },
      event: { detail: { state: 'OVERLOADED' } },
      expected: false,
    },
    {
      name: 'Anything-but ignoring case: a list of excluded states (running)',
      pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } },
      event: { detail: { state: 'running' } },
      expected: true,
    },
    {
      name: 'Anything-but using wildcards: FilePath outside /lib/',
      pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
      event: { detail: { FilePath: '/usr/bin/env' } },
      expected: true,
    },
    {
      name: 'Numeric matching: every numeric field holds',
      pattern: numericPattern,
      event: { detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8 } },
      expected: true,
    },
    {
      name: 'Numeric matching: c-count 0 is not > 0',
      pattern: numericPattern,
      event: { detail: { 'c-count': 0, 'd-count': 3, 'x-limit': 301.8 } },
      expected: false,
    },
    {
      name: 'Numeric matching: x-limit 301.9 is not 3.018e2',
      pattern: numericPattern,
      event: { detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.9 } },
      expected: false,
    },
    {
      name: 'Numeric matching only works on JSON numbers: c-count "5"',
      pattern: numericPattern,
      event: { detail: { 'c-count': '5', 'd-count': 3, 'x-limit': 301.8 } },
      expected: false,
    },
    {
      name: 'IP address matching: 10.0.0.0/24 contains 10.0.0.255',
      pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
      event: { detail: { sourceIPAddress: '10.0.0.255' } },
      expected: true,
    },
    {
      name: 'IP address matching: 10.0.0.0/24 does not contain 10.0.1.1',
      pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
      event: { detail: { sourceIPAddress: '10.0.1.1' } },
      expected: false,
    },
    {
      name: 'IP address matching works for IPv6',
      pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } },
      event: { detail: { sourceIPAddress: '2001:db8:85a3::8a2e:370:7334' } },
      expected: true,
    },
    {
      name: 'Exists matching: exists false matches an event without detail.c-count',
      pattern: { detail: { 'c-count': [{ exists: false }] } },
      event: stateEvent({ state: ['initializing', 'running'] }),
      expected: true,
    },
    {
      name: 'Exists matching: exists false also matches because c-count is not a leaf node',
      pattern: { detail: { 'c-count': [{ exists: false }] } },
      event: stateEvent({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }),
      expected: true,
    },
    {
      name: 'Exists matching: exists false does not match a leaf c-count',
      pattern: { detail: { 'c-count': [{ exists: false }] } },
      event: stateEvent({ state: ['initializing', 'running'], 'c-count': 100 }),
      expected: false,
    },
    {
      name: 'Exists matching: exists true does not match an intermediate node',
      pattern: { detail: { 'c-count': [{ exists: true }] } },
      event: stateEvent({ 'c-count': { c1: 100 } }),
      expected: false,
    },
    {
      name: 'Equals-ignore-case matching on detail-type',
      pattern: { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
      event: ec2Event,
      expected: true,
    },
    {
      name: 'Complex example with multiple matching',
      pattern: {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
        },
      },
      event: {
        time: '2017-10-02T16:24:49Z',
        detail: { state: 'running', 'c-count': 5, 'd-count': 3, 'x-limit': 301.8 },
      },
      expected: true,
    },
    {
      name: 'Complex example with multiple matching fails on an excluded x-limit',
      pattern: {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
        },
      },
      event: { time: '2017-10-02T16:24:49Z', detail: { state: 'running', 'c-count': 5, 'd-count': 3, 'x-limit': 300 } },
      expected: false,
    },
    {
      name: 'Complex example with $or matching: only d-count holds',
      pattern: {
        detail: {
          $or: [
            { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
            { 'd-count': [{ numeric: ['<', 10] }] },
            { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
          ],
        },
      },
      event: { detail: { 'c-count': 50, 'd-count': 3, 'x-limit': 1 } },
      expected: true,
    },
    {
      name: 'Complex example with $or matching: no alternative holds',
      pattern: {
        detail: {
          $or: [
            { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
            { 'd-count': [{ numeric: ['<', 10] }] },
            { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
          ],
        },
      },
      event: { detail: { 'c-count': 50, 'd-count': 30, 'x-limit': 1 } },
      expected: false,
    },
    {
      name: '$or beside a plain field: source and (metricName or namespace)',
      pattern: {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      },
      event: { source: 'aws.cloudwatch', metricName: 'Other', namespace: 'AWS/ES' },
      expected: true,
    },
    {
      name: '$or beside a plain field still requires the plain field',
      pattern: {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      },
      event: { source: 'aws.ec2', metricName: 'CPUUtilization' },
      expected: false,
    },
  ]);
});

describe('Best practices for Amazon EventBridge event patterns', () => {
  const cloudTrailPattern = {
    'detail-type': ['AWS API Call via CloudTrail'],
    $or: [
      { source: ['aws.sqs'], detail: { eventName: ['CreateQueue', 'SetQueueAttributes'] } },
      { source: ['aws.kms'], detail: { eventName: ['CreateKey', 'DisableKeyRotation'] } },
    ],
  };
  const cloudTrailEvent = (source: string, eventName: string) => ({
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    detail: { eventName },
  });
  runCases([
    {
      name: '$or instead of one list: SQS CreateQueue matches',
      pattern: cloudTrailPattern,
      event: cloudTrailEvent('aws.sqs', 'CreateQueue'),
      expected: true,
    },
    {
      name: '$or instead of one list: KMS DisableKeyRotation matches',
      pattern: cloudTrailPattern,
      event: cloudTrailEvent('aws.kms', 'DisableKeyRotation'),
      expected: true,
    },
    {
      name: '$or instead of one list: SQS with a KMS event name does not match',
      pattern: cloudTrailPattern,
      event: cloudTrailEvent('aws.sqs', 'CreateKey'),
      expected: false,
    },
  ]);
});
