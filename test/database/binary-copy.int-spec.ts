import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryCopyWriter, timestampMicros } from 'src/database/binary-copy';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * The binary COPY writer (src/database/binary-copy.ts) against PostgreSQL's own `recv` functions: what it writes is
 * read back as the values written, nulls included, across pieces; what a column's text input would refuse, it refuses.
 */
describe('BinaryCopyWriter', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const copy = (table: string, columns: string, pieces: readonly Buffer[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const stream = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN (FORMAT binary)`));
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      for (const p of pieces) stream.write(p);
      stream.end();
    });

  it('writes every type it knows as PostgreSQL reads it back, nulls and pieces included', async () => {
    await client.query(
      `CREATE TEMP TABLE every_type (n int4, id uuid, t text, v varchar(12), j jsonb, r real, b bool, at timestamptz, maybe text)`,
    );
    // Pieces of 64 bytes: every few tuples a new one, so that a tuple never straddles two.
    const w = new BinaryCopyWriter(64);
    const rows = 300;
    for (let i = 0; i < rows; i++) {
      w.tuple(9);
      w.int4(i - 150);
      w.uuid(`0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`);
      w.text(i % 3 === 0 ? `Zoë\t\\ 名前 ${i}` : `plain ${i}`);
      w.text(`v${i}`);
      w.jsonb(JSON.stringify([{ factor: 'gap', weight: i / 7, note: 'é"\n' }]));
      w.float4(i / 3);
      w.bool(i % 2 === 0);
      w.timestamptz(timestampMicros(1_733_456_789_123.456 + i * 86_400_000));
      if (i % 4 === 0) w.null();
      else w.text(`m${i}`);
    }
    const pieces = w.pieces();
    expect(pieces.length).toBeGreaterThan(100);
    await copy('every_type', 'n, id, t, v, j, r, b, at, maybe', pieces);
    const back = await client.query<{
      n: number;
      id: string;
      t: string;
      v: string;
      j: unknown;
      r: number;
      b: boolean;
      at: string;
      maybe: string | null;
      exact: boolean;
    }>(
      `SELECT n, id::text, t, v, j, r, b, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at, maybe, r = ((n + 150)::float8 / 3)::real AS exact
         FROM every_type ORDER BY n`,
    );
    expect(back.rows).toHaveLength(rows);
    expect(back.rows[0]).toEqual({
      n: -150,
      id: '0190a1b2-c3d4-7e5f-8a9b-000000000000',
      t: 'Zoë\t\\ 名前 0',
      v: 'v0',
      j: [{ factor: 'gap', weight: 0, note: 'é"\n' }],
      r: 0,
      b: true,
      at: '2024-12-06 03:46:29.123456',
      maybe: null,
      exact: true,
    });
    expect(back.rows[299]).toMatchObject({
      n: 149,
      id: '0190a1b2-c3d4-7e5f-8a9b-000000000299',
      t: 'plain 299',
      b: false,
      maybe: 'm299',
      at: '2025-10-01 03:46:29.123456',
    });
    expect(back.rows.every((r) => r.exact)).toBe(true);
    expect(back.rows.filter((r) => r.maybe === null)).toHaveLength(75);
  });

  it('writes each instant as to_timestamp(ms / 1000) gives it, to the microsecond', async () => {
    // The update path's INSERT turns epoch milliseconds (float8) into timestamps in SQL; the rebuild's COPY writes
    // them from Node (timestampMicros): the same instants, ties at half a microsecond included.
    const rnd = (k: number): number => ((k * 2654435761) % 4294967296) / 4294967296;
    const values = [
      0, -1, -0.0005, 0.0005, 0.0015, 1.5e-3, 1733456789123, 1733456789123.456, 1733456789123.4565, -86_400_000.0005, 946_684_800_000.0005,
      4102444800000.9995,
    ];
    for (let k = 1; k <= 2000; k++) values.push(Math.round(rnd(k) * 2e12 * 1000) / 1000 - 2e11, rnd(k + 7) * 2e12);
    await client.query(`CREATE TEMP TABLE instants (i int4, at timestamptz)`);
    const w = new BinaryCopyWriter();
    values.forEach((ms, i) => {
      w.tuple(2);
      w.int4(i);
      w.timestamptz(timestampMicros(ms));
    });
    await copy('instants', 'i, at', w.pieces());
    const differ = await client.query(
      `SELECT i.i FROM instants i JOIN unnest($1::float8[]) WITH ORDINALITY AS u(ms, o) ON u.o = i.i + 1 WHERE i.at IS DISTINCT FROM to_timestamp(u.ms / 1000)`,
      [values],
    );
    expect(differ.rows).toEqual([]);
    expect((await client.query(`SELECT count(*)::int AS n FROM instants`)).rows[0].n).toBe(values.length);
    expect(() => timestampMicros(Number.NaN)).toThrow(RangeError);
  });

  it('refuses what the columns would refuse: a fraction or an overflow for an integer, a malformed uuid', () => {
    const w = new BinaryCopyWriter();
    w.tuple(1);
    expect(() => w.int4(1.5)).toThrow(/not an integer/);
    expect(() => w.int4(2 ** 31)).toThrow(/not an integer/);
    expect(() => w.uuid('0190a1b2-c3d4-7e5f-8a9b-00000000000g')).toThrow(/not a uuid/);
    expect(() => w.uuid('0190a1b2')).toThrow(/not a uuid/);
    expect(() => w.uuid('0190a1b2_c3d4-7e5f-8a9b-000000000000')).toThrow(/not a uuid/);
  });
});
