import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditEventContent } from 'src/audit/trail/audit-event';
import { contentHash } from 'src/audit/trail/hash-chain';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { DATA_KEY_BYTES, organizationKeyAad, PhiPlace, unwrapPatientKey, wrapPatientKey } from 'src/records/phi/phi-data-key';
import type { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';
import { ORGANIZATION_KEY_LOCK } from 'src/records/phi/phi-keys.repository';

/** The organization's own values (`o1:`, under a key derived from the organization key): table, id column, column. */
export const ORGANIZATION_VALUES: readonly { table: string; column: string; prefixOnly?: boolean }[] = [
  { table: 'stored_files', column: 'key_wrapped', prefixOnly: true },
  { table: 'legal_holds', column: 'reason_enc' },
  { table: 'erasure_receipts', column: 'reason_enc' },
];

export interface OrganizationKeyRotationOptions {
  /** Patient keys per transaction (default 5,000). */
  batchSize?: number;
  /** After each committed batch: the patient keys re-wrapped so far (this run) and the number left at the start. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

export interface OrganizationKeyRotationResult {
  /** The new (now only) version of the organization's key. */
  version: number;
  /** The versions removed at the end. */
  removed: number[];
  /** Whether this run carried on a rotation an earlier run had started. */
  resumed: boolean;
  /** Patient keys re-wrapped under the new version by this run. */
  patientKeys: number;
  /** The organization's own values (stored files' keys, hold and erasure reasons) re-encrypted. */
  organizationValues: number;
}

/**
 * `npm run rotate-keys -- --org <slug> --org-key`: replaces the organization's own key (the key-encryption key between
 * the master key and the patients' data keys), as the owner connection:
 * 1. creates version N+1 (random, wrapped by the master key) and commits it: from then on the app writes new patient
 *    keys and organization values under it (PhiKeyring checks the newest version before writing) and reads both;
 * 2. re-wraps every patient key still under an older version, in keyset batches, one transaction each (the patients'
 *    data keys and their values do not change: only the 60-byte wrapped key of each patient is rewritten);
 * 3. in one last transaction: takes the organization's key lock (writers that read the versions before step 1 hold
 *    it shared until they commit: PhiKeysRepository), re-wraps what is left, re-encrypts the organization's own values (`o1:`) under the new version,
 *    deletes the old versions and records the audit event.
 * Interrupted anywhere, every value still reads (both versions exist until step 3 commits), and the next run carries
 * on with the newest version as the target instead of creating another one.
 */
export async function rotateOrganizationKey(
  url: string,
  keyring: PhiKeyringCore,
  organizationId: string,
  options: OrganizationKeyRotationOptions = {},
): Promise<OrganizationKeyRotationResult> {
  const org = organizationId.toLowerCase();
  const batchSize = options.batchSize ?? 5000;
  const master = keyring.master;
  const client = new Client({ connectionString: url, application_name: 'patient-journey-rotate-org-key' });
  await client.connect();
  const sql: TenantSql = {
    organizationId: org,
    query: async <T>(text: string, params?: readonly unknown[]) => (await client.query(text, params as unknown[])).rows as T[],
  };
  const trail = new TrailRepository();
  const audit = async (action: AuditAction, query: Record<string, string>): Promise<void> => {
    const event: AuditEventContent = {
      organizationId: org,
      id: randomUUID(),
      occurredAt: new Date(),
      actorType: null,
      actorId: null,
      actorRole: 'system',
      action,
      resource: 'organization_key',
      method: 'CLI',
      route: 'rotate-keys --org-key',
      patientIds: [],
      query,
      outcome: 'success',
      statusCode: 200,
      requestId: null,
      ip: null,
      userAgent: null,
    };
    await trail.append(sql, event, contentHash(event));
  };
  const inTransaction = async <T>(work: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      const out = await work();
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
  const loadKeys = async (): Promise<Map<number, Buffer>> => {
    const rows = await sql.query<{ version: number; wrapped_key: string }>(
      `SELECT version, wrapped_key FROM organization_keys WHERE organization_id = $1 ORDER BY version`,
      [org],
    );
    return new Map(rows.map((r) => [r.version, master.unwrapKey(r.wrapped_key, organizationKeyAad(org, r.version))]));
  };

  try {
    // 1. The target version: a new one, or the newest left by an interrupted run (more than one version stored).
    const { keys, resumed } = await inTransaction(async () => {
      // One rotation of an organization at a time (a second run waits here, then carries on the first's).
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('rotate-org-key:' || $1))`, [org]);
      // The writers' lock, exclusive: a writer that read the versions before this commits holds it shared until its
      // own commit, so the last step (which takes it again) sees what it wrote under the old version.
      await client.query(`SELECT pg_advisory_xact_lock(${ORGANIZATION_KEY_LOCK})`, [org]);
      const existing = await loadKeys();
      if (existing.size === 0) throw new OrganizationKeyMissingError();
      if (existing.size > 1) return { keys: existing, resumed: true };
      const version = Math.max(...existing.keys()) + 1;
      const key = randomBytes(DATA_KEY_BYTES);
      await sql.query(`INSERT INTO organization_keys (organization_id, version, wrapped_key) VALUES ($1, $2, $3)`, [
        org,
        version,
        master.wrapKey(key, organizationKeyAad(org, version)),
      ]);
      await audit(AuditAction.Create, { organization_key_version: String(version), step: 'started' });
      existing.set(version, key);
      return { keys: existing, resumed: false };
    });
    const target = Math.max(...keys.keys());
    const targetKey = keys.get(target) as Buffer;

    const [{ n: left }] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patient_keys WHERE organization_id = $1 AND kek_version <> $2`,
      [org, target],
    );
    await options.onProgress?.(0, left);

    // 2. Re-wrap the patient keys, a batch per transaction (each batch all or nothing).
    const rewrapBatch = async (after: string, all: boolean): Promise<{ n: number; last: string | null }> => {
      const rows = await sql.query<{ patient_id: string; wrapped_key: Buffer; kek_version: number }>(
        `SELECT patient_id, wrapped_key, kek_version FROM patient_keys
          WHERE organization_id = $1 AND kek_version <> $2 AND patient_id > $3 ORDER BY patient_id ${all ? '' : `LIMIT ${batchSize}`} FOR UPDATE`,
        [org, target, after],
      );
      if (rows.length === 0) return { n: 0, last: null };
      const wrapped = rows.map((r) => {
        const kek = keys.get(r.kek_version);
        if (!kek) throw new Error(`a patient key is under organization key version ${r.kek_version}, which is not stored`);
        const dataKey = unwrapPatientKey(kek, org, r.patient_id, r.kek_version, r.wrapped_key);
        return wrapPatientKey(targetKey, org, r.patient_id, target, dataKey).toString('base64');
      });
      await sql.query(
        `UPDATE patient_keys k SET wrapped_key = decode(x.wrapped_key, 'base64'), kek_version = $2
           FROM unnest($3::uuid[], $4::text[]) AS x(patient_id, wrapped_key)
          WHERE k.organization_id = $1 AND k.patient_id = x.patient_id`,
        [org, target, rows.map((r) => r.patient_id), wrapped],
      );
      return { n: rows.length, last: rows[rows.length - 1].patient_id };
    };
    let done = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await inTransaction(() => rewrapBatch(after, false));
      if (batch.last === null) break;
      done += batch.n;
      after = batch.last;
      await options.onProgress?.(done, left);
    }

    // 3. The last transaction: what was written under the old versions meanwhile, the organization's own values, the
    // old versions deleted, the audit event.
    const result = await inTransaction(async () => {
      // Waits for the transactions that write under the organization's key (they hold its lock shared): then sees
      // what they wrote under the old version, and nothing more can be written under it.
      await client.query(`SELECT pg_advisory_xact_lock(${ORGANIZATION_KEY_LOCK})`, [org]);
      const old = (
        await sql.query<{ version: number }>(
          `SELECT version FROM organization_keys WHERE organization_id = $1 AND version <> $2 ORDER BY version`,
          [org, target],
        )
      ).map((r) => r.version);
      const late = await rewrapBatch('00000000-0000-0000-0000-000000000000', true);
      done += late.n;
      const older = old.filter((v) => keys.has(v)).map((v) => keys.get(v) as Buffer);
      const current = keyring.organizationValueKey(org, targetKey);
      const readable = keyring.organizationValueKey(org, targetKey, older);
      let values = 0;
      for (const { table, column, prefixOnly } of ORGANIZATION_VALUES) {
        const rows = await sql.query<{ id: string; value: string }>(
          `SELECT id, ${column} AS value FROM ${table} WHERE organization_id = $1 AND ${column} IS NOT NULL${prefixOnly ? ` AND ${column} LIKE 'o1:%'` : ''} FOR UPDATE`,
          [org],
        );
        const changed: { id: string; value: string }[] = [];
        for (const r of rows) {
          const place: PhiPlace = { table, column, row: r.id };
          if (!r.value.startsWith('o1:') || current.isCurrent(r.value, place)) continue;
          changed.push({ id: r.id, value: current.encrypt(readable.decrypt(r.value, place), place) as string });
        }
        if (changed.length > 0) {
          await sql.query(
            `UPDATE ${table} t SET ${column} = x.value FROM unnest($2::uuid[], $3::text[]) AS x(id, value) WHERE t.organization_id = $1 AND t.id = x.id`,
            [org, changed.map((c) => c.id), changed.map((c) => c.value)],
          );
          values += changed.length;
        }
      }
      if (old.length > 0)
        await sql.query(`DELETE FROM organization_keys WHERE organization_id = $1 AND version = ANY($2::int[])`, [org, old]);
      await audit(AuditAction.Update, {
        organization_key_version: String(target),
        removed_versions: old.join(','),
        patient_keys_rewrapped: String(done),
        organization_values_reencrypted: String(values),
        step: 'completed',
      });
      return { removed: old, values };
    });
    await options.onProgress?.(done, Math.max(done, left));
    return { version: target, removed: result.removed, resumed, patientKeys: done, organizationValues: result.values };
  } finally {
    await client.end();
  }
}

/** The organization has no key yet (nothing of it is encrypted): nothing to rotate. */
export class OrganizationKeyMissingError extends Error {
  constructor() {
    super('The organization has no key yet (nothing of it is encrypted under one): nothing to rotate');
    this.name = 'OrganizationKeyMissingError';
  }
}
