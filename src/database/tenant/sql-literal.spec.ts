import { escapeLiteral } from 'pg';
import { inlineParams, quoteLiteral, sqlLiteral } from 'src/database/tenant/sql-literal';

describe('quoteLiteral', () => {
  it('quotes exactly as pg.escapeLiteral does, quotes and backslashes included', () => {
    const samples = [
      '',
      'plain',
      "O'Brien",
      "''",
      '\\',
      'a\\b',
      "it's a \\ path\\'",
      '{"a":"b\\"c"}',
      'tab\there\nline',
      'ünïcödé ✓',
      "\\'\\'",
    ];
    // Random strings over an alphabet heavy in the characters that matter.
    const alphabet = 'ab\'\\" é{},\n✓';
    let x = 7;
    const next = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 500; i++) {
      let s = '';
      for (let n = next() % 40; n > 0; n--) s += alphabet[next() % alphabet.length];
      samples.push(s);
    }
    expect(samples.some((s) => s.includes("'") && s.includes('\\'))).toBe(true);
    for (const s of samples) expect(quoteLiteral(s)).toBe(escapeLiteral(s));
  });

  it('marks a literal holding a backslash as an escape string', () => {
    expect(quoteLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
});

describe('inlineParams', () => {
  it('puts each parameter in as a literal: strings, arrays, buffers, dates and NULL', () => {
    const text = inlineParams('SELECT $1, $2::text[], $3::bytea, $4::timestamptz, $5, $10', [
      "O'Brien",
      ['a"b', null, 'c\\d'],
      Buffer.from([1, 255]),
      new Date(Date.UTC(2026, 11, 6, 19, 0, 0)),
      null,
      2,
      3,
      4,
      5,
      true,
    ]);
    expect(text).toBe(
      `SELECT 'O''Brien',  E'{"a\\\\"b",NULL,"c\\\\\\\\d"}'::text[],  E'\\\\x01ff'::bytea, '2026-12-06T19:00:00.000Z'::timestamptz, NULL, 'true'`,
    );
  });

  it('refuses a placeholder without a value', () => {
    expect(() => inlineParams('SELECT $2', ['x'])).toThrow('inlineParams: no value for $2');
    expect(sqlLiteral(undefined)).toBe('NULL');
  });
});
