import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../lib/pattern/index.ts';

interface Case {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

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

const oktaEvent = {
  source: 'aws.partner/okta.com/acme/okta-logs',
  detail: {
    eventType: 'user.session.start',
    outcome: { result: 'FAILURE' },
    target: [
      { type: 'AppUser', id: 'a1', alternateId: 'alice@example.com' },
      { type: 'User', id: 'u2', detailEntry: 'x' },
    ],
  },
};

describe('Arrays in Amazon EventBridge event patterns: arrays of objects', () => {
  runCases([
    {
      name: 'target[].type is written as a nested field and matches any element',
      pattern: { detail: { target: { type: ['AppUser'] } } },
      event: oktaEvent,
      expected: true,
    },
    {
      name: 'no element has the wanted type',
      pattern: { detail: { target: { type: ['Group'] } } },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'two fields must come from the same array element',
      pattern: { detail: { target: { type: ['AppUser'], id: ['u2'] } } },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'two fields from one element match',
      pattern: { detail: { target: { type: ['User'], id: ['u2'] } } },
      event: oktaEvent,
      expected: true,
    },
    {
      name: 'an object element is not a leaf value',
      pattern: { detail: { target: ['AppUser'] } },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'nested arrays are searched at every depth',
      pattern: { employees: { firstName: ['Peter'] } },
      event: { employees: [[{ firstName: 'John' }, { firstName: 'Anna' }], [{ firstName: 'Peter' }]] },
      expected: true,
    },
    {
      name: 'elements of different inner arrays cannot combine',
      pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
      event: {
        employees: [
          [
            { firstName: 'John', lastName: 'Doe' },
            { firstName: 'Anna', lastName: 'Smith' },
          ],
          [{ firstName: 'Peter', lastName: 'Jones' }],
        ],
      },
      expected: false,
    },
    {
      name: 'fields in separate arrays combine freely',
      pattern: { detail: { target: { type: ['AppUser'] }, actor: { id: ['admin'] } } },
      event: { detail: { target: [{ type: 'AppUser' }], actor: [{ id: 'root' }, { id: 'admin' }] } },
      expected: true,
    },
    {
      name: 'scalar array values sit at the array field itself',
      pattern: { detail: { tags: [{ prefix: 'Insid' }] } },
      event: { detail: { tags: ['Custom_Alert', 'Insider'] } },
      expected: true,
    },
  ]);
});

describe('Content filtering in Amazon EventBridge event patterns: exists matching', () => {
  runCases([
    {
      name: 'exists true matches a null value, since the field is present',
      pattern: { detail: { responseElements: [{ exists: true }] } },
      event: { detail: { responseElements: null } },
      expected: true,
    },
    {
      name: 'exists false does not match a null value',
      pattern: { detail: { responseElements: [{ exists: false }] } },
      event: { detail: { responseElements: null } },
      expected: false,
    },
    {
      name: 'exists true does not match an empty array, which holds no value',
      pattern: { detail: { resources: [{ exists: true }] } },
      event: { detail: { resources: [] } },
      expected: false,
    },
    {
      name: 'exists false matches an empty array',
      pattern: { detail: { resources: [{ exists: false }] } },
      event: { detail: { resources: [] } },
      expected: true,
    },
    {
      name: 'exists false matches when the parent object is missing',
      pattern: { detail: { debugContext: { debugData: [{ exists: false }] } } },
      event: { detail: { eventType: 'user.session.start' } },
      expected: true,
    },
    {
      name: 'exists false fails when any array element has the field',
      pattern: { detail: { target: { detailEntry: [{ exists: false }] } } },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'exists false is judged within the element chosen by the other fields',
      pattern: { detail: { target: { type: ['AppUser'], detailEntry: [{ exists: false }] } } },
      event: oktaEvent,
      expected: true,
    },
    {
      name: 'exists false fails within the chosen element that has the field',
      pattern: { detail: { target: { type: ['User'], detailEntry: [{ exists: false }] } } },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'a value or exists false: a missing field matches',
      pattern: { detail: { reason: ['INVALID_CREDENTIALS', { exists: false }] } },
      event: { detail: {} },
      expected: true,
    },
    {
      name: 'a value or exists false: another value does not match',
      pattern: { detail: { reason: ['INVALID_CREDENTIALS', { exists: false }] } },
      event: { detail: { reason: 'LOCKED_OUT' } },
      expected: false,
    },
    {
      name: 'exists true on a nested leaf inside an array element',
      pattern: { detail: { target: { alternateId: [{ exists: true }] } } },
      event: oktaEvent,
      expected: true,
    },
  ]);
});

describe('Content filtering in Amazon EventBridge event patterns: $or placement', () => {
  runCases([
    {
      name: '$or inside a nested object',
      pattern: { detail: { $or: [{ eventType: ['user.account.lock'] }, { outcome: { result: ['FAILURE'] } }] } },
      event: oktaEvent,
      expected: true,
    },
    {
      name: '$or nested inside another $or alternative',
      pattern: {
        source: [{ prefix: 'aws.partner/okta.com' }],
        $or: [
          { detail: { eventType: ['user.account.lock'] } },
          {
            detail: { eventType: [{ prefix: 'user.session.' }] },
            $or: [{ detail: { outcome: { result: ['DENY'] } } }, { detail: { outcome: { result: ['FAILURE'] } } }],
          },
        ],
      },
      event: oktaEvent,
      expected: true,
    },
    {
      name: 'nested $or fails when the inner alternatives all fail',
      pattern: {
        $or: [
          { detail: { eventType: ['user.account.lock'] } },
          {
            detail: { eventType: [{ prefix: 'user.session.' }] },
            $or: [{ detail: { outcome: { result: ['DENY'] } } }, { detail: { outcome: { result: ['SKIPPED'] } } }],
          },
        ],
      },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'two $or blocks at different levels must both hold',
      pattern: {
        $or: [{ source: ['aws.ec2'] }, { detail: { eventType: ['user.session.start'] } }],
        detail: { $or: [{ outcome: { result: ['SUCCESS'] } }, { eventType: ['user.account.lock'] }] },
      },
      event: oktaEvent,
      expected: false,
    },
    {
      name: 'a field repeated inside $or replaces the earlier one for that alternative',
      pattern: {
        source: ['aws.ec2'],
        $or: [{ source: ['aws.partner/okta.com/acme/okta-logs'] }, { detail: { eventType: ['x'] } }],
      },
      event: oktaEvent,
      expected: true,
    },
    {
      name: 'an event that is not an object matches nothing',
      pattern: { source: [{ prefix: '' }] },
      event: ['aws.ec2'],
      expected: false,
    },
  ]);
});
