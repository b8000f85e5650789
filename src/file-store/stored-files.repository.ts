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

  /**
   * Deletes files. A file's chunks are deleted in statements of at most CHUNKS_PER_DELETE (a million-patient export
   * is thousands of 1 MiB chunks: one statement for them all outlasts the statement timeout), after the file is made
   * unreadable (expired now), so no reader sees part of it; a run interrupted midway leaves an expired file that the
   * expiry sweep finishes.
   */
  async remove(db: TenantSql, fileIds: readonly string[], now: Date, chunksPerStatement = CHUNKS_PER_DELETE): Promise<number> {
    await db.query(
      `UPDATE stored_files SET expires_at = $3 WHERE organization_id = $1 AND id = ANY($2::uuid[]) AND (expires_at IS NULL OR expires_at > $3)`,
      [db.organizationId, fileIds, now],
    );
    for (;;) {
      const [{ n }] = await db.query<{ n: number }>(
        `WITH gone AS (
           DELETE FROM stored_file_chunks c USING (
             SELECT file_id, seq FROM stored_file_chunks WHERE organization_id = $1 AND file_id = ANY($2::uuid[]) LIMIT $3
           ) batch
           WHERE c.organization_id = $1 AND c.file_id = batch.file_id AND c.seq = batch.seq RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [db.organizationId, fileIds, chunksPerStatement],
      );
      if (n < chunksPerStatement) break;
    }
    const rows = await db.query<{ id: string }>(
      `DELETE FROM stored_files WHERE organization_id = $1 AND id = ANY($2::uuid[]) RETURNING id`,
      [db.organizationId, fileIds],
    );
    return rows.length;
  }

  /**
   * Every organization's files expired at `now`, deleted (stored_files_delete_expired(now, max chunks): each call
   * deletes at most CHUNKS_PER_DELETE chunks of expired files, then the expired files left without chunks; called
   * until a call finds fewer chunks). Returns the number of files deleted.
   */
  async deleteExpired(sql: CrossTenantSql, now: Date, chunksPerStatement = CHUNKS_PER_DELETE): Promise<number> {
    let files = 0;
    for (;;) {
      const [row] = await sql.query<{ files: number; chunks: number }>(`SELECT files, chunks FROM stored_files_delete_expired($1, $2)`, [
        now,
        chunksPerStatement,
      ]);
      files += row.files;
      if (row.chunks < chunksPerStatement) return files;
    }
  }
}

/** Chunks (1 MiB each) deleted per statement: about a second of work, well inside the statement timeouts. */
export const CHUNKS_PER_DELETE = 128;
