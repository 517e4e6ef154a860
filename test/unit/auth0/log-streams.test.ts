import { describe, expect, it } from 'vitest';
import { Auth0CredentialsError, auth0CredentialsFromVariables } from '../../../lib/auth0/credentials.ts';
import {
  createRequestBody,
  displayEndpoint,
  type NewLogStreamInput,
  summarize,
  validateNewLogStream,
} from '../../../lib/auth0/log-streams.ts';

const HTTP: NewLogStreamInput = {
  type: 'http',
  name: 'pipeline',
  endpoint: 'https://ingest.acme.com/auth0',
  authorization: 'Bearer abc',
};
const EVENTBRIDGE: NewLogStreamInput = {
  type: 'eventbridge',
  name: 'aws',
  accountId: '123456789012',
  region: 'eu-west-1',
};

const fieldOf = (input: NewLogStreamInput): string | undefined => {
  try {
    validateNewLogStream(input);
    return undefined;
  } catch (error) {
    return (error as { field?: string }).field;
  }
};

describe('validateNewLogStream', () => {
  it.each([
    [{ ...HTTP }, undefined],
    [{ ...HTTP, format: 'JSONOBJECT' }, undefined],
    [{ ...HTTP, type: 'HTTP' }, 'type'],
    [{ ...HTTP, name: '' }, 'name'],
    [{ ...HTTP, endpoint: undefined }, 'endpoint'],
    [{ ...HTTP, endpoint: 'http://ingest.acme.com' }, 'endpoint'],
    [{ ...HTTP, endpoint: 'https://:pw@ingest.acme.com' }, 'endpoint'],
    [{ ...HTTP, format: 'json' }, 'format'],
    [{ ...HTTP, format: 'toString' }, 'format'],
    [{ ...HTTP, authorization: undefined }, 'authorization'],
    [{ ...HTTP, authorization: 'Bearer a\nX-Injected: 1' }, 'authorization'],
    [{ ...HTTP, filters: ['auth.login.fail, user.fail', 'actions'] }, undefined],
    [{ ...HTTP, filters: ['auth.ancillary.fail'] }, 'filters'],
    [{ ...HTTP, piiFields: 'first_name,last_name,username,email,phone,address', piiMethod: 'mask' }, undefined],
    [{ ...HTTP, piiFields: ',', piiMethod: 'mask' }, 'piiFields'],
    [{ ...HTTP, piiFields: 'Email', piiMethod: 'mask' }, 'piiFields'],
    [{ ...HTTP, startFrom: '2026-11-01T00:00Z' }, undefined],
    [{ ...HTTP, startFrom: '2026-02-30T00:00:00Z' }, 'startFrom'],
    [{ ...HTTP, startFrom: '1762000000' }, 'startFrom'],
    [{ ...HTTP, startFrom: '2026-11-01T24:00:00Z' }, 'startFrom'],
    [{ ...HTTP, startFrom: '2026-11-01T00:00:00+24:00' }, 'startFrom'],
    [{ ...HTTP, startFrom: '2028-02-29T23:59:59.999-05:00' }, undefined],
    [{ ...EVENTBRIDGE }, undefined],
    [{ ...EVENTBRIDGE, region: 'us-gov-west-1' }, undefined],
    [{ ...EVENTBRIDGE, region: 'eusc-de-east-1' }, undefined],
    [{ ...EVENTBRIDGE, region: 'ap-southeast-7' }, undefined],
    [{ ...EVENTBRIDGE, region: 'EU-WEST-1' }, 'region'],
    [{ ...EVENTBRIDGE, region: 'eu-west-1a' }, 'region'],
    [{ ...EVENTBRIDGE, region: undefined }, 'region'],
    [{ ...EVENTBRIDGE, accountId: ' 123456789012 ' }, undefined],
    [{ ...EVENTBRIDGE, accountId: '１２３４５６７８９０１２' }, 'accountId'],
  ])('%j: %s', (input, field) => {
    // Prepare
    const stream = input as NewLogStreamInput;

    // Act
    const refused = fieldOf(stream);

    // Assess
    expect(refused).toBe(field);
  });

  it('never quotes the authorization value in its messages', () => {
    // Prepare
    const input = { ...HTTP, authorization: 'secret\u0007value' };

    // Act
    const validate = () => validateNewLogStream(input);

    // Assess
    expect(validate).toThrow('the Authorization value must be one line of text');
    expect(validate).not.toThrow(/secret/);
  });
});

describe('createRequestBody', () => {
  it('maps an http stream to Auth0 fields, deduplicating filters and normalising the start to UTC', () => {
    // Prepare
    const stream = validateNewLogStream({
      ...HTTP,
      format: 'jsonobject',
      filters: ['user.fail', 'user.fail,scim.event'],
      piiFields: 'email',
      piiMethod: 'mask',
      startFrom: '2026-11-01T09:30:00.5+09:30',
    });

    // Act
    const body = createRequestBody(stream);

    // Assess
    expect(body).toEqual({
      name: 'pipeline',
      type: 'http',
      sink: {
        httpEndpoint: 'https://ingest.acme.com/auth0',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONOBJECT',
        httpAuthorization: 'Bearer abc',
      },
      filters: [
        { type: 'category', name: 'user.fail' },
        { type: 'category', name: 'scim.event' },
      ],
      pii_config: { log_fields: ['email'], method: 'mask', algorithm: 'xxhash' },
      startFrom: '2026-11-01T00:00:00.500Z',
    });
  });

  it('sends only the account and region for an eventbridge sink', () => {
    // Prepare
    const stream = validateNewLogStream(EVENTBRIDGE);

    // Act
    const body = createRequestBody(stream);

    // Assess
    expect(body).toEqual({
      name: 'aws',
      type: 'eventbridge',
      sink: { awsAccountId: '123456789012', awsRegion: 'eu-west-1' },
    });
  });
});

describe('what olp shows of a stream', () => {
  it.each([
    ['https://logs.acme.com/auth0', 'https://logs.acme.com/auth0'],
    ['https://logs.acme.com/auth0?api_key=s3cret', 'https://logs.acme.com/auth0?[redacted]'],
    ['https://user:s3cret@logs.acme.com:8443/in#x', 'https://[redacted]@logs.acme.com:8443/in#x'],
    ['not a url', 'not a url'],
  ])('shows the endpoint %s as %s', (endpoint, shown) => {
    // Prepare
    const input = endpoint;

    // Act
    const display = displayEndpoint(input);

    // Assess
    expect(display).toBe(shown);
  });

  it.each([
    [
      {
        id: 'lst_1',
        name: 'h',
        type: 'http',
        status: 'active',
        sink: { httpEndpoint: 'https://a.b/c', httpAuthorization: 'x' },
      },
      { id: 'lst_1', name: 'h', type: 'http', status: 'active', sink: 'https://a.b/c' },
    ],
    [
      {
        id: 'lst_2',
        type: 'eventbridge',
        status: 'paused',
        sink: { awsPartnerEventSource: 'aws.partner/auth0.com/a/b' },
      },
      { id: 'lst_2', name: '', type: 'eventbridge', status: 'paused', sink: 'aws.partner/auth0.com/a/b' },
    ],
    [
      { id: 'lst_3', name: 's', type: 'splunk', status: 'suspended', sink: { splunkToken: 'x' } },
      { id: 'lst_3', name: 's', type: 'splunk', status: 'suspended', sink: null },
    ],
    [null, { id: '', name: '', type: '', status: '', sink: null }],
    [
      { id: 7, name: ['x'], type: 'http', sink: 'https://a.b' },
      { id: '', name: '', type: 'http', status: '', sink: null },
    ],
  ])('summarizes %j', (stream, summary) => {
    // Prepare
    const answer: unknown = stream;

    // Act
    const summarized = summarize(answer);

    // Assess
    expect(summarized).toEqual(summary);
  });
});

describe('auth0CredentialsFromVariables', () => {
  it.each([
    [{ AUTH0_MGMT_TOKEN: ' ey.token ' }, { kind: 'token', token: 'ey.token' }],
    [
      { AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret' },
      { kind: 'client_credentials', clientId: 'id', clientSecret: 'secret' },
    ],
    [
      { AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret', AUTH0_AUDIENCE: 'https://acme.us.auth0.com/api/v2/' },
      {
        kind: 'client_credentials',
        clientId: 'id',
        clientSecret: 'secret',
        audience: 'https://acme.us.auth0.com/api/v2/',
      },
    ],
    [
      { AUTH0_MGMT_TOKEN: 'ey.token', AUTH0_CLIENT_ID: ' ', AUTH0_CLIENT_SECRET: '' },
      { kind: 'token', token: 'ey.token' },
    ],
  ])('reads %j', (variables, credentials) => {
    // Prepare
    const env = variables;

    // Act
    const read = auth0CredentialsFromVariables(env);

    // Assess
    expect(read).toEqual(credentials);
  });

  it.each([
    [{}, /no Auth0 credentials/],
    [{ AUTH0_MGMT_TOKEN: 'secret-a', AUTH0_CLIENT_ID: 'id' }, /not both/],
    [{ AUTH0_CLIENT_ID: 'id' }, /AUTH0_CLIENT_SECRET is not/],
    [{ AUTH0_CLIENT_SECRET: 'secret-b' }, /AUTH0_CLIENT_ID is not/],
    [{ AUTH0_MGMT_TOKEN: 'secret-c\nmore' }, /AUTH0_MGMT_TOKEN must be one line/],
    [{ AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret-d', AUTH0_AUDIENCE: 'api/v2' }, /AUTH0_AUDIENCE must be/],
  ])('refuses %j without quoting a value', (variables, message) => {
    // Prepare
    const read = () => auth0CredentialsFromVariables(variables);

    // Act
    let error: unknown;
    try {
      read();
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(Auth0CredentialsError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret-');
  });
});
