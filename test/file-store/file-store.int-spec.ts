import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { CHUNK_BYTES, FileStore } from 'src/file-store/file-store.service';
import { StoredFilesRepository } from 'src/file-store/stored-files.repository';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import { createOrganization } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** The encrypted file store on the real database: round trip, bounded chunks, tampering, expiry, tenancy. */
describe('file store', () => {
  let t: TestApp;
  let store: FileStore;
  let org: { id: string };

  beforeAll(async () => {
    t = await createTestApp();
    store = t.app.get(FileStore);
    org = await createOrganization(t.db);
  });
  afterAll(() => t.close());

  const readAll = async (fileId: string, organizationId = org.id): Promise<string> => {
    const file = await store.get(organizationId, fileId);
    const parts: Buffer[] = [];
    for await (const chunk of store.read(file!)) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  };

  it('writes a file of several chunks and reads back exactly what was written, line by line too', async () => {
    const writer = await store.create(org.id, { name: 'Patient.ndjson', contentType: 'application/fhir+ndjson', expiresAt: null });
    const lines: string[] = [];
    // ~2.6 MiB in 30,000 lines: three chunks, lines cut across chunk edges.
    for (let i = 0; i < 30_000; i++)
      lines.push(JSON.stringify({ resourceType: 'Patient', id: `p-${i}`, name: 'ü'.repeat(i % 50) + 'x'.repeat(30) }));
    for (const line of lines) await writer.writeLine(line);
    const totals = await writer.finish();
    const plainBytes = Buffer.byteLength(lines.join('\n') + '\n');
    expect(totals).toEqual({ lines: 30_000, bytes: plainBytes, chunks: Math.ceil(plainBytes / CHUNK_BYTES) });
    expect(totals.chunks).toBeGreaterThanOrEqual(3);
    expect(await readAll(writer.id)).toBe(lines.join('\n') + '\n');
    const back: string[] = [];
    for await (const line of store.lines((await store.get(org.id, writer.id))!)) back.push(line);
    expect(back).toEqual(lines);
    // At rest nothing is readable: no plain text of any line in the stored chunks.
    const stored = await t.db.query<{ data: Buffer }>(`SELECT data FROM stored_file_chunks WHERE file_id = $1 ORDER BY seq`, [writer.id]);
    expect(stored).toHaveLength(totals.chunks);
    expect(Buffer.concat(stored.map((r) => r.data)).includes(Buffer.from('resourceType'))).toBe(false);
  });

  it('refuses a chunk moved to another position or another file (each is bound to its place)', async () => {
    const a = await store.create(org.id, { name: 'a.ndjson', contentType: 'application/x-ndjson', expiresAt: null });
    for (let i = 0; i < 20_000; i++) await a.writeLine(`{"n":${i},"pad":"${'y'.repeat(60)}"}`);
    await a.finish();
    expect((await readAll(a.id)).length).toBeGreaterThan(CHUNK_BYTES);
    await t.db.query(
      `UPDATE stored_file_chunks c SET data = o.data FROM stored_file_chunks o WHERE c.file_id = $1 AND c.seq = 0 AND o.file_id = $1 AND o.seq = 1`,
      [a.id],
    );
    await expect(readAll(a.id)).rejects.toThrow(PhiDecryptError);
    const b = await store.create(org.id, { name: 'b.ndjson', contentType: 'application/x-ndjson', expiresAt: null });
    await b.writeLine('{"other":true}');
    await b.finish();
    await t.db.query(`UPDATE stored_files SET key_wrapped = (SELECT key_wrapped FROM stored_files WHERE id = $2) WHERE id = $1`, [
      b.id,
      a.id,
    ]);
    await expect(readAll(b.id)).rejects.toThrow(PhiDecryptError);
  });

  it("never serves an unfinished file, lists a run's files, and deletes expired ones", async () => {
    const runId = '0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b';
    const open = await store.create(org.id, { runId, name: 'unfinished.ndjson', contentType: 'application/x-ndjson', expiresAt: null });
    await open.writeLine('{}');
    const file = await store.get(org.id, open.id);
    expect(file?.status).toBe('writing');
    await expect(readAll(open.id)).rejects.toThrow(/not complete/);
    const soon = await store.create(org.id, {
      runId,
      name: 'expiring.ndjson',
      contentType: 'application/x-ndjson',
      expiresAt: new Date(t.clock.now().getTime() + 60_000),
    });
    await soon.writeLine('{"x":1}');
    await soon.finish();
    expect((await store.ofRun(org.id, runId)).map((f) => f.name)).toEqual(['unfinished.ndjson', 'expiring.ndjson']);
    expect(await store.deleteExpired(t.clock.now())).toBe(0);
    t.clock.set(new Date(t.clock.now().getTime() + 61_000));
    expect(await store.get(org.id, soon.id)).toBeNull(); // expired: not served even before the sweep
    expect(await store.deleteExpired(t.clock.now())).toBe(1);
    expect(await t.db.query(`SELECT 1 FROM stored_file_chunks WHERE file_id = $1`, [soon.id])).toEqual([]);
  });

  it('deletes a file of many chunks in bounded statements, by request and by expiry, and never serves it halfway', async () => {
    const files = t.app.get(StoredFilesRepository);
    const tenantDb = t.app.get(TenantDb);
    const crossTenant = t.app.get(CrossTenantDb);
    const chunkedFile = async (name: string, expiresAt: Date | null): Promise<string> => {
      const w = await store.create(org.id, { name, contentType: 'application/x-ndjson', expiresAt });
      // ~3.4 MiB: four chunks.
      for (let i = 0; i < 40_000; i++) await w.writeLine(JSON.stringify({ i, pad: 'x'.repeat(80) }));
      expect((await w.finish()).chunks).toBe(4);
      return w.id;
    };
    const chunksOf = async (id: string): Promise<number> =>
      Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM stored_file_chunks WHERE file_id = $1`, [id]))[0].n);
    // By request, one chunk per statement: every chunk and the row go; a second file is untouched.
    const a = await chunkedFile('a.ndjson', null);
    const kept = await chunkedFile('kept.ndjson', null);
    expect(await tenantDb.statements(org.id, (db) => files.remove(db, [a], t.clock.now(), 1))).toBe(1);
    expect(await chunksOf(a)).toBe(0);
    expect(await store.get(org.id, a)).toBeNull();
    expect(await chunksOf(kept)).toBe(4);
    // Interrupted after its first statements (the file marked expired, one chunk deleted): no longer served, and the
    // expiry sweep, three chunks per statement, finishes it.
    await t.db.query(`UPDATE stored_files SET expires_at = $2 WHERE id = $1`, [kept, t.clock.now()]);
    await t.db.query(`DELETE FROM stored_file_chunks WHERE file_id = $1 AND seq = 0`, [kept]);
    expect(await store.get(org.id, kept)).toBeNull();
    expect(await files.deleteExpired(crossTenant, t.clock.now(), 3)).toBe(1);
    expect(await chunksOf(kept)).toBe(0);
    expect(await t.db.query(`SELECT 1 FROM stored_files WHERE id = $1`, [kept])).toEqual([]);
  });

  it("keeps each organization's files to itself", async () => {
    const w = await store.create(org.id, { name: 'mine.ndjson', contentType: 'application/x-ndjson', expiresAt: null });
    await w.writeLine('{"secret":true}');
    await w.finish();
    const other = await createOrganization(t.db);
    expect(await store.get(other.id, w.id)).toBeNull();
    expect(await store.remove(other.id, [w.id])).toBe(0);
    expect(await readAll(w.id)).toBe('{"secret":true}\n');
  });
});
