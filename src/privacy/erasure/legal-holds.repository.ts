import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

export interface LegalHoldRow {
  id: string;
  allPatients: boolean;
  patientIds: string[];
  reasonEnc: string;
  until: Date | null;
  createdAt: Date;
  createdBy: string;
  releasedAt: Date | null;
  releasedBy: string | null;
}

interface Raw {
  id: string;
  all_patients: boolean;
  patient_ids: string[];
  reason_enc: string;
  until: Date | null;
  created_at: Date;
  created_by: string;
  released_at: Date | null;
  released_by: string | null;
}

const COLUMNS = 'id, all_patients, patient_ids::text[] AS patient_ids, reason_enc, until, created_at, created_by, released_at, released_by';

const toRow = (r: Raw): LegalHoldRow => ({
  id: r.id,
  allPatients: r.all_patients,
  patientIds: r.patient_ids,
  reasonEnc: r.reason_enc,
  until: r.until,
  createdAt: r.created_at,
  createdBy: r.created_by,
  releasedAt: r.released_at,
  releasedBy: r.released_by,
});

/** Every SQL statement of legal holds (docs/privacy.md, "Legal holds"). */
@Injectable()
export class LegalHoldsRepository {
  async create(
    db: TenantSql,
    h: { id: string; allPatients: boolean; patientIds: string[]; reasonEnc: string; until: Date | null; createdAt: Date; createdBy: string },
  ): Promise<LegalHoldRow> {
    const rows = await db.query<Raw>(
      `INSERT INTO legal_holds (organization_id, id, all_patients, patient_ids, reason_enc, until, created_at, created_by)
       VALUES ($1, $2, $3, $4::uuid[], $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [db.organizationId, h.id, h.allPatients, h.patientIds, h.reasonEnc, h.until, h.createdAt, h.createdBy],
    );
    return toRow(rows[0]);
  }

  /** The organization's holds, newest first (released ones too). */
  async list(db: TenantSql): Promise<LegalHoldRow[]> {
    const rows = await db.query<Raw>(`SELECT ${COLUMNS} FROM legal_holds WHERE organization_id = $1 ORDER BY created_at DESC, id`, [
      db.organizationId,
    ]);
    return rows.map(toRow);
  }

  async get(db: TenantSql, id: string): Promise<LegalHoldRow | null> {
    const rows = await db.query<Raw>(`SELECT ${COLUMNS} FROM legal_holds WHERE organization_id = $1 AND id = $2`, [db.organizationId, id]);
    return rows.length === 0 ? null : toRow(rows[0]);
  }

  /** Releases a hold still in force; null when there is no such hold or it was released already. */
  async release(db: TenantSql, id: string, at: Date, by: string): Promise<LegalHoldRow | null> {
    const rows = await db.query<Raw>(
      `UPDATE legal_holds SET released_at = $3, released_by = $4 WHERE organization_id = $1 AND id = $2 AND released_at IS NULL
       RETURNING ${COLUMNS}`,
      [db.organizationId, id, at, by],
    );
    return rows.length === 0 ? null : toRow(rows[0]);
  }

  /** The holds in force at `now` that cover any of these patients (an `all` hold covers everyone), oldest first. */
  async covering(db: TenantSql, patientIds: string[], now: Date): Promise<LegalHoldRow[]> {
    const rows = await db.query<Raw>(
      `SELECT ${COLUMNS} FROM legal_holds
        WHERE organization_id = $1 AND released_at IS NULL AND (until IS NULL OR until > $3)
          AND (all_patients OR patient_ids && $2::uuid[])
        ORDER BY created_at, id`,
      [db.organizationId, patientIds, now],
    );
    return rows.map(toRow);
  }
}
