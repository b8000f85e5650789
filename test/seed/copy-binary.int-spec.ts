import { Client } from 'pg';
import { BinaryCopyEncoder, binaryColumnTypes } from 'src/demo-data/copy-binary';
import { copyInto } from 'src/demo-data/copy-table';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/** The seed's binary COPY (copy-binary.ts) against PostgreSQL's own parsing of the same text rows. */
describe('binary COPY encoder', () => {
  let db: TestDatabase;
  let client: Client;
  const columns = ['u', 'v', 't', 'ts', 'i', 's', 'b', 'r', 'y', 'a', 'j'];
  const table = (name: string): string =>
    `CREATE TABLE ${name} (n serial, u uuid, v varchar(40), t text, ts timestamptz, i integer, s smallint, b boolean, r real, y bytea, a text[], j jsonb)`;
  const rows = [
    ['0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6', 'plain', 'tab\\there, newline\\nand \\\\ backslash \\r', '2026-12-05 23:59:59+00', '0', '0', 't', '20', '\\\\x00ff10', '{}', '{"a": [1, "x"]}'],
    ['FFFFFFFF-FFFF-4FFF-8FFF-FFFFFFFFFFFF', 'ünïcødé ✓', '', '1999-12-31 23:59:59+00', '-2147483648', '-32768', 'f', '-3', '\\\\x', '{marketing:email,marketing:sms,research}', '{}'],
    ['00000000-0000-0000-0000-000000000000', '\\N', '\\N', '1970-01-01 00:00:00+00', '2147483647', '32767', '\\N', '\\N', '\\N', '{"with, comma","quote \\\\" inside",NULL, x }', '\\N'],
    ['11111111-2222-3333-4444-555555555555', 'octal \\101 hex \\x42', 'NULL', '2041-02-28 12:34:56+00', '-1', '-1', 't', '1000000', '\\N', '\\N', 'null'],
  ].map((r) => r.join('\t') + '\n');

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url, options: '-c timezone=UTC' });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('loads the same values as PostgreSQL parses from the text rows, for every column type the seed uses', async () => {
    await client.query(table('copy_text'));
    await client.query(table('copy_binary'));
    const text = Buffer.from(rows.join(''));
    await copyInto(client, 'copy_text', columns, text);
    const [types] = Object.values(await binaryColumnTypes(client, [{ table: 'copy_binary', columns }]));
    expect(types).toEqual(['uuid', 'text', 'text', 'timestamptz', 'int4', 'int2', 'bool', 'float4', 'bytea', 'text[]', 'jsonb']);
    const encoder = new BinaryCopyEncoder();
    // Two parts of one statement (as the seed sends a round's blocks), each encoded on its own.
    await copyInto(client, 'copy_binary', columns, [encoder.encode(Buffer.from(rows.slice(0, 2).join('')), types), encoder.encode(Buffer.from(rows.slice(2).join('')), types)], false, 'binary');
    const read = (name: string): Promise<Record<string, unknown>[]> =>
      db.query(`SELECT u::text, v, t, ts::text, i, s, b, r, encode(y, 'hex') AS y, a, j::text FROM ${name} ORDER BY n`);
    const expected = await read('copy_text');
    expect(await read('copy_binary')).toEqual(expected);
    // What PostgreSQL itself read from the text rows (so the comparison above compares something).
    expect(expected.map((r) => [r.v, r.ts, r.i, r.r, r.y, r.a])).toEqual([
      ['plain', '2026-12-05 23:59:59+00', 0, 20, '00ff10', []],
      ['ünïcødé ✓', '1999-12-31 23:59:59+00', -2147483648, -3, '', ['marketing:email', 'marketing:sms', 'research']],
      [null, '1970-01-01 00:00:00+00', 2147483647, null, null, ['with, comma', 'quote " inside', null, 'x']],
      ['octal A hex B', '2041-02-28 12:34:56+00', -1, 1000000, null, null],
    ]);
    expect(expected[0].t).toBe('tab\there, newline\nand \\ backslash \r');
    expect(expected[3].t).toBe('NULL');
  });

  it('refuses values it cannot encode exactly instead of loading something else', () => {
    const encoder = new BinaryCopyEncoder();
    const one = (value: string, type: Parameters<BinaryCopyEncoder['encode']>[1][number]): Uint8Array => encoder.encode(Buffer.from(value + '\n'), [type]);
    expect(() => one('2026-12-05 23:59:59.5+00', 'timestamptz')).toThrow(/as timestamptz/);
    expect(() => one('2026-02-30 00:00:00+00', 'timestamptz')).toThrow(/as timestamptz/);
    expect(() => one('0.1', 'float4')).toThrow(/as float4/);
    expect(() => one('2147483648', 'int4')).toThrow(/as int4/);
    expect(() => one('12a', 'int4')).toThrow(/as integer/);
    expect(() => one('yes', 'bool')).toThrow(/as bool/);
    expect(() => one('{{a}}', 'text[]')).toThrow(/as text\[\]/);
    expect(() => encoder.encode(Buffer.from('a\tb\n'), ['text'])).toThrow(/without 1 fields/);
    expect(() => encoder.encode(Buffer.from('a\n'), ['text', 'text'])).toThrow(/without 2 fields/);
  });
});
