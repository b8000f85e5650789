import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';

export interface StoredListItem {
  resourceType: string;
  resourceId: string;
  patientRef: string;
  list: string | null;
  itemEnc: string | null;
}

/** Every SQL statement of the FHIR import beyond the ingestion's own (fhir_resources, the patients' medical lists). */
@Injectable()
export class FhirImportRepository {
  /** The stored list items (and settled claims) of these resources, by `Type/id`. */
  async existing(
    db: TenantSql,
    source: string,
    keys: { resourceType: string; resourceId: string }[],
  ): Promise<Map<string, StoredListItem & { target: string | null }>> {
    if (keys.length === 0) return new Map();
    const rows = await db.query<{
      resource_type: string;
      resource_id: string;
      patient_ref: string;
      list: string | null;
      item_enc: string | null;
      target: string | null;
    }>(
      // A LATERAL probe of the primary key per key (ingestion.repository.ts `byKey`: a plan that holds without statistics;
      // the LIMIT keeps the planner from turning it back into a join it may hash; the organization unseen by the planner,
      // so a clinic its statistics do not know yet is not taken for one row and probed through the patient index).
      `SELECT f.* FROM unnest($3::text[], $4::text[]) AS k(resource_type, resource_id)
         CROSS JOIN LATERAL (
           SELECT f.resource_type, f.resource_id, f.patient_ref, f.list, f.item_enc, f.target FROM fhir_resources f
            WHERE f.organization_id = ${UNSEEN_ORGANIZATION} AND f.source = $2 AND f.resource_type = k.resource_type AND f.resource_id = k.resource_id
            LIMIT 1
         ) f`,
      [db.organizationId, source, keys.map((k) => k.resourceType), keys.map((k) => k.resourceId)],
    );
    return new Map(
      rows.map((r) => [
        `${r.resource_type}/${r.resource_id}`,
        {
          resourceType: r.resource_type,
          resourceId: r.resource_id,
          patientRef: r.patient_ref,
          list: r.list,
          itemEnc: r.item_enc,
          target: r.target,
        },
      ]),
    );
  }

  /** Inserts or replaces rows (values in their stored form: the item already encrypted). */
  async upsert(
    db: TenantSql,
    source: string,
    rows: {
      resourceType: string;
      resourceId: string;
      patientRef: string;
      list: string | null;
      itemEnc: string | null;
      target: string | null;
    }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO fhir_resources (organization_id, source, resource_type, resource_id, patient_ref, list, item_enc, target)
       SELECT $1, $2, x.resource_type, x.resource_id, x.patient_ref, x.list, x.item_enc, x.target
         FROM jsonb_to_recordset($3::jsonb) AS x(resource_type text, resource_id text, patient_ref text, list text, item_enc text, target text)
       ON CONFLICT (organization_id, source, resource_type, resource_id)
       DO UPDATE SET patient_ref = EXCLUDED.patient_ref, list = EXCLUDED.list, item_enc = EXCLUDED.item_enc, target = EXCLUDED.target, updated_at = now()`,
      [
        db.organizationId,
        source,
        JSON.stringify(
          rows.map((r) => ({
            resource_type: r.resourceType,
            resource_id: r.resourceId,
            patient_ref: r.patientRef,
            list: r.list,
            item_enc: r.itemEnc,
            target: r.target,
          })),
        ),
      ],
    );
  }

  /** The list items (encrypted) of these patients, by patient ref. */
  async listItems(
    db: TenantSql,
    source: string,
    patientRefs: string[],
  ): Promise<{ resourceType: string; resourceId: string; patientRef: string; list: string; itemEnc: string }[]> {
    if (patientRefs.length === 0) return [];
    const rows = await db.query<{ resource_type: string; resource_id: string; patient_ref: string; list: string; item_enc: string }>(
      `SELECT resource_type, resource_id, patient_ref, list, item_enc FROM fhir_resources
        WHERE organization_id = $1 AND source = $2 AND patient_ref = ANY($3::text[]) AND list IS NOT NULL AND item_enc IS NOT NULL`,
      [db.organizationId, source, patientRefs],
    );
    return rows.map((r) => ({ resourceType: r.resource_type, resourceId: r.resource_id, patientRef: r.patient_ref, list: r.list, itemEnc: r.item_enc }));
  }

  /** Which of these payment external ids an ExplanationOfBenefit has settled. */
  async settled(db: TenantSql, source: string, targets: string[]): Promise<Set<string>> {
    if (targets.length === 0) return new Set();
    const rows = await db.query<{ target: string }>(
      `SELECT DISTINCT target FROM fhir_resources WHERE organization_id = $1 AND source = $2 AND resource_type = 'ExplanationOfBenefit' AND target = ANY($3::text[])`,
      [db.organizationId, source, targets],
    );
    return new Set(rows.map((r) => r.target));
  }

  /** Writes patients' medical lists (ciphertext JSON, or null), by patient id; returns nothing. */
  async setLists(
    db: TenantSql,
    rows: { id: string; conditionsEnc: string | null; allergiesEnc: string | null; medicationsEnc: string | null }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `UPDATE patients p SET conditions_enc = x.conditions_enc, allergies_enc = x.allergies_enc, medications_enc = x.medications_enc, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, conditions_enc text, allergies_enc text, medications_enc text)
        WHERE p.organization_id = $1 AND p.id = x.id`,
      [
        db.organizationId,
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            conditions_enc: r.conditionsEnc,
            allergies_enc: r.allergiesEnc,
            medications_enc: r.medicationsEnc,
          })),
        ),
      ],
    );
  }
}
