import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { PhiPlace } from 'src/records/phi/phi-data-key';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { ErasureTombstones, SourceKey } from 'src/records/tombstones/erasure-tombstones';

/** An identifier of a patient in an outside system (FHIR `Identifier`): its namespace (`''` when absent) and value. */
export interface PatientIdentifierValue {
  system: string;
  value: string;
}

/** Where an identifier's value is stored (its encryption is bound to it): the patient and the identifier's hash. */
export const identifierPlace = (patientId: string, hash: string): PhiPlace => ({
  table: 'patient_identifiers',
  column: 'identifier_enc',
  row: `${patientId.toLowerCase()}/${hash}`,
});

/**
 * The external id an erasure tombstone of an identifier is keyed by (with the source): a NUL first, so it can be no
 * record's external id. Over the plain identifier (not its look-up hash), so that it holds across a change of the
 * blind index key.
 */
export const identifierTombstoneId = (i: PatientIdentifierValue): string => `\u0000identifier\u0000${i.system}\u0000${i.value}`;

const keyOf = (i: PatientIdentifierValue): string => `${i.system}\u0000${i.value}`;

/**
 * Patients' identifiers (`patient_identifiers`, docs/fhir.md "Identifiers"): kept per (organization, source) as
 * a keyed hash for look-ups and the value encrypted under the patient's key; never stored or logged readable. Written
 * by the FHIR import with its patients; read to resolve a logical reference (`{ identifier: { system, value } }`),
 * by a patient's export, and by an erasure (which tombstones each one).
 */
@Injectable()
export class PatientIdentifiers {
  constructor(
    private readonly keyring: PhiKeyring,
    private readonly tombstones: ErasureTombstones,
  ) {}

  /** The look-up hash: HMAC-SHA256 under the blind index key, over the organization, the source and the identifier. */
  hash(organizationId: string, source: string, i: PatientIdentifierValue): string {
    return this.keyring.blindIndex('identifier', `${organizationId.toLowerCase()}\u0000${source}\u0000${i.system}\u0000${i.value}`);
  }

  /**
   * Sets the identifiers of these stored patients (each list replaces theirs in the source). Returns the ids of the
   * patients whose identifiers changed; those patients' `updated_at` moves too (an incremental export picks them up),
   * but for the `written` ones (their row was just written: it has moved already).
   */
  async replace(
    db: TenantSql,
    source: string,
    patients: { patientId: string; identifiers: PatientIdentifierValue[] }[],
    written: ReadonlySet<string> = new Set(),
  ): Promise<Set<string>> {
    const changed = new Set<string>();
    if (patients.length === 0) return changed;
    const org = db.organizationId;
    const want = new Map<string, Map<string, PatientIdentifierValue>>();
    for (const p of patients) {
      const byHash = want.get(p.patientId.toLowerCase()) ?? new Map<string, PatientIdentifierValue>();
      for (const i of p.identifiers) byHash.set(this.hash(org, source, i), i);
      want.set(p.patientId.toLowerCase(), byHash);
    }
    const stored = await db.query<{ patient_id: string; identifier_hash: string }>(
      `SELECT patient_id, identifier_hash FROM patient_identifiers WHERE organization_id = $1 AND source = $2 AND patient_id = ANY($3::uuid[])`,
      [org, source, [...want.keys()]],
    );
    const have = new Map<string, Set<string>>();
    for (const r of stored) {
      const s = have.get(r.patient_id) ?? new Set<string>();
      s.add(r.identifier_hash);
      have.set(r.patient_id, s);
    }
    const gone: { patient_id: string; identifier_hash: string }[] = [];
    const added: { patientId: string; hash: string; identifier: PatientIdentifierValue }[] = [];
    for (const [patientId, byHash] of want) {
      const had = have.get(patientId) ?? new Set<string>();
      for (const h of had) if (!byHash.has(h)) gone.push({ patient_id: patientId, identifier_hash: h });
      for (const [h, identifier] of byHash) if (!had.has(h)) added.push({ patientId, hash: h, identifier });
    }
    if (gone.length === 0 && added.length === 0) return changed;
    if (gone.length > 0) {
      await db.query(
        `DELETE FROM patient_identifiers i USING jsonb_to_recordset($3::jsonb) AS x(patient_id uuid, identifier_hash text)
          WHERE i.organization_id = $1 AND i.source = $2 AND i.patient_id = x.patient_id AND i.identifier_hash = x.identifier_hash`,
        [org, source, JSON.stringify(gone)],
      );
    }
    if (added.length > 0) {
      const keys = await this.keyring.ensureKeys(
        db,
        added.map((a) => a.patientId),
      );
      await db.query(
        `INSERT INTO patient_identifiers (organization_id, source, identifier_hash, patient_id, identifier_enc)
         SELECT $1, $2, x.identifier_hash, x.patient_id, x.identifier_enc
           FROM jsonb_to_recordset($3::jsonb) AS x(identifier_hash text, patient_id uuid, identifier_enc text)
         ON CONFLICT DO NOTHING`,
        [
          org,
          source,
          JSON.stringify(
            added.map((a) => ({
              identifier_hash: a.hash,
              patient_id: a.patientId,
              identifier_enc: keys.get(a.patientId).encryptJson({ system: a.identifier.system, value: a.identifier.value }, identifierPlace(a.patientId, a.hash)),
            })),
          ),
        ],
      );
    }
    for (const g of gone) changed.add(g.patient_id);
    for (const a of added) changed.add(a.patientId);
    const stale = [...changed].filter((id) => !written.has(id));
    if (stale.length > 0) await db.query(`UPDATE patients SET updated_at = now() WHERE organization_id = $1 AND id = ANY($2::uuid[])`, [org, stale]);
    return changed;
  }

  /**
   * The external ids (in `source`) of the patients carrying each of these identifiers, by `system NUL value`: one
   * statement. An identifier no stored patient carries is missing from the answer; one that several carry maps to all.
   */
  async resolve(db: TenantSql, source: string, identifiers: PatientIdentifierValue[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (identifiers.length === 0) return out;
    const byHash = new Map<string, string>();
    for (const i of identifiers) byHash.set(this.hash(db.organizationId, source, i), keyOf(i));
    const rows = await db.query<{ identifier_hash: string; external_id: string }>(
      `SELECT i.identifier_hash, p.external_id FROM patient_identifiers i
         JOIN patients p ON p.organization_id = i.organization_id AND p.id = i.patient_id
        WHERE i.organization_id = $1 AND i.source = $2 AND i.identifier_hash = ANY($3::text[])
        ORDER BY p.external_id`,
      [db.organizationId, source, [...byHash.keys()]],
    );
    for (const r of rows) {
      const key = byHash.get(r.identifier_hash) as string;
      const list = out.get(key) ?? [];
      if (!list.includes(r.external_id)) list.push(r.external_id);
      out.set(key, list);
    }
    return out;
  }

  /** Which of these identifiers belonged to a patient erased at the organization's request, by `system NUL value`. */
  async erased(db: TenantSql, source: string, identifiers: PatientIdentifierValue[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (identifiers.length === 0) return out;
    const hits = await this.tombstones.erased(
      db,
      identifiers.map((i) => ({ source, externalId: identifierTombstoneId(i) })),
    );
    for (const i of identifiers) if (hits.has(`${source}\u0000${identifierTombstoneId(i)}`)) out.add(keyOf(i));
    return out;
  }

  /**
   * The tombstone keys of a patient's identifiers (read with their key, before an erasure destroys it): an erasure
   * records them, so that a later import naming the person by one of them is rejected as erased.
   */
  async tombstoneKeys(db: TenantSql, patientId: string): Promise<SourceKey[]> {
    const rows = await db.query<{ source: string; identifier_hash: string; identifier_enc: string }>(
      `SELECT source, identifier_hash, identifier_enc FROM patient_identifiers WHERE organization_id = $1 AND patient_id = $2`,
      [db.organizationId, patientId],
    );
    if (rows.length === 0) return [];
    const key = (await this.keyring.keysFor(db, [patientId])).get(patientId);
    const out: SourceKey[] = [];
    for (const r of rows) {
      try {
        const i = key.decryptJson<PatientIdentifierValue>(r.identifier_enc, identifierPlace(patientId, r.identifier_hash));
        if (i) out.push({ source: r.source, externalId: identifierTombstoneId(i) });
      } catch (err) {
        // Unreadable (its key already gone): nothing to tombstone by; the row still goes with the patient.
        if (!(err instanceof PhiDecryptError)) throw err;
      }
    }
    return out;
  }
}

/** `system NUL value`: how the maps above key an identifier. */
export const identifierKey = keyOf;
