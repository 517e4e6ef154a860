import { describe, expect, it } from 'vitest';
import { splitAuth0Body } from '../../../lambdas/http-sink/auth0-body.ts';

const log = (id: string, type = 'f') => ({
  log_id: id,
  data: { date: '2026-12-01T10:00:00.000Z', type, description: 'Wrong email or password.' },
});

describe('an Auth0 HTTP log stream body', () => {
  it('as a JSON array gives each element as written', () => {
    const text = `[ ${JSON.stringify(log('1'))},\n  {"log_id":"2","data":{"date":"2026-12-01T10:00:01.000Z","type":"s","n":1.50}} ]`;
    expect(splitAuth0Body(text)).toEqual({
      ok: true,
      logs: [JSON.stringify(log('1')), '{"log_id":"2","data":{"date":"2026-12-01T10:00:01.000Z","type":"s","n":1.50}}'],
    });
  });

  it('as JSON lines gives each line, blank lines and CRLF ignored', () => {
    const lines = [log('1'), log('2'), log('3')].map((entry) => JSON.stringify(entry));
    expect(splitAuth0Body(`${lines[0]}\r\n\r\n${lines[1]}\n${lines[2]}\n`)).toEqual({ ok: true, logs: lines });
  });

  it('as a JSON object gives the one log, or each log of an object of logs', () => {
    const one = JSON.stringify(log('1'));
    expect(splitAuth0Body(one)).toEqual({ ok: true, logs: [one] });
    expect(splitAuth0Body(JSON.stringify({ 0: log('1'), 1: log('2') }))).toEqual({
      ok: true,
      logs: [JSON.stringify(log('1')), JSON.stringify(log('2'))],
    });
  });

  it('as an empty array gives no logs', () => {
    expect(splitAuth0Body('[]')).toEqual({ ok: true, logs: [] });
  });

  it.each([
    ['', /empty body/],
    ['   \n', /empty body/],
    ['"a string"', /not Auth0 logs/],
    ['{"hello": "world"}', /not Auth0 logs/],
    [`${JSON.stringify(log('1'))}\n{"log_id": `, /not JSON: line 2/],
    ['<html>', /not JSON: line 1/],
  ])('refuses %j with the reason', (body, reason) => {
    const result = splitAuth0Body(body);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});
