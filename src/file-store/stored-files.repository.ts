import { Injectable } from '@nestjs/common';
import type { CrossTenantSql } from 'src/database/cross-tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** A stored file's description (its content is read with FileStore.read). */
export interface StoredFileRow {
  id: string;
  organizationId: string;
  runId: string | null;
  name: string;
  contentType: string;
  status: 'writing' | 'complete';
  lines: number;
  bytes: number;
  chunks: number;
  keyWrapped: string;
  createdAt: Date;
  expiresAt: Date | null;
}

const COLUMNS = `id, organization_id AS "organizationId", run_id AS "runId", name, content_type AS "contentType", status,
  lines::float8 AS lines, bytes::float8 AS bytes, chunks, key_wrapped AS "keyWrapped", created_at AS "createdAt", expires_at AS "expiresAt"`;

/** The encrypted file store's statements, on the organization's tenant handle. */
@Injectable()
export class StoredFilesRepository {
  async create(
    db: TenantSql,
    file: { id: string; runId: string | null; name: string; contentType: string; keyWrapped: string; expiresAt: Date | null },
  ): Promise<StoredFileRow> {
    const [row] = await db.query<StoredFileRow>(
      `INSERT INTO stored_files (id, organization_id, run_id, name, content_type, status, key_wrapped, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'writing', $6, $7) RETURNING ${COLUMNS}`,
      [file.id, db.organizationId, file.runId, file.name, file.contentType, file.keyWrapped, file.expiresAt],
    );
    return row;
  }

  async appendChunk(db: TenantSql, fileId: string, seq: number, data: Buffer): Promise<void> {
    await db.query(`INSERT INTO stored_file_chunks (file_id, seq, organization_id, data) VALUES ($1, $2, $3, $4)`, [
      fileId,
      seq,
      db.organizationId,
      data,
    ]);
  }

  async complete(db: TenantSql, fileId: string, totals: { lines: number; bytes: number; chunks: number }): Promise<void> {
    await db.query(
      `UPDATE stored_files SET status = 'complete', lines = $3, bytes = $4, chunks = $5 WHERE organization_id = $1 AND id = $2`,
      [db.organizationId, fileId, totals.lines, totals.bytes, totals.chunks],
    );
  }

  async byId(db: TenantSql, fileId: string): Promise<StoredFileRow | null> {
    const rows = await db.query<StoredFileRow>(`SELECT ${COLUMNS} FROM stored_files WHERE organization_id = $1 AND id = $2`, [
      db.organizationId,
      fileId,
    ]);
    return rows[0] ?? null;
  }

  ofRun(db: TenantSql, runId: string): Promise<StoredFileRow[]> {
    return db.query<StoredFileRow>(
      `SELECT ${COLUMNS} FROM stored_files WHERE organization_id = $1 AND run_id = $2 ORDER BY created_at, name`,
      [db.organizationId, runId],
    );
  }

  /** Chunks [from, from + count) of a file, in order. */
  chunks(db: TenantSql, fileId: string, from: number, count: number): Promise<{ seq: number; data: Buffer }[]> {
    return db.query<{ seq: number; data: Buffer }>(
      `SELECT seq, data FROM stored_file_chunks WHERE organization_id = $1 AND file_id = $2 AND seq >= $3 AND seq < $4 ORDER BY seq`,
      [db.organizationId, fileId, from, from + count],
    );
  }

  /** Deletes files (their chunks go with them). */
  async remove(db: TenantSql, fileIds: readonly string[]): Promise<number> {
    const rows = await db.query<{ id: string }>(
      `DELETE FROM stored_files WHERE organization_id = $1 AND id = ANY($2::uuid[]) RETURNING id`,
      [db.organizationId, fileIds],
    );
    return rows.length;
  }

  /** Every organization's files expired at `now`, deleted (stored_files_delete_expired()). */
  async deleteExpired(sql: CrossTenantSql, now: Date): Promise<number> {
    const [row] = await sql.query<{ n: number }>(`SELECT stored_files_delete_expired($1) AS n`, [now]);
    return row.n;
  }
}
