import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SETTINGS } from 'src/config/config.module';
import { localSecret, Settings } from 'src/config/settings';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** A source record's key: the system it came from and its id there. */
export interface SourceKey {
  source: string;
  externalId: string;
}

/** The key of the tombstones' hashes: ERASURE_TOMBSTONE_KEY, or outside production one generated once under DATA_DIR. */
export function tombstoneSecret(settings: Settings): Buffer {
  return Buffer.from(settings.erasureTombstoneKey ?? localSecret(settings.dataDir, 'erasure-tombstone-key', 32), 'base64');
}

/** HMAC-SHA256 under a key per organization (itself an HMAC of the secret), over `source NUL external id`. */
export class TombstoneHasher {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly secret: Buffer) {}

  hash(organizationId: string, key: SourceKey): Buffer {
    const org = organizationId.toLowerCase();
    let orgKey = this.keys.get(org);
    if (!orgKey) {
      orgKey = createHmac('sha256', this.secret).update(`erasure-tombstone:${org}`).digest();
      this.keys.set(org, orgKey);
    }
    return createHmac('sha256', orgKey).update(`${key.source}\u0000${key.externalId}`).digest();
  }
}

/**
 * Erasure tombstones (docs/privacy.md, "Erasure"): an erased patient's source and external id kept only as a keyed hash,
 * so that a later ingestion or FHIR import of the same source record is rejected as `erased` rather than recreating
 * the person. Nothing readable is stored; without the key a hash cannot be tested against a guess.
 */
@Injectable()
export class ErasureTombstones {
  private readonly hasher: TombstoneHasher;

  constructor(@Inject(SETTINGS) settings: Settings) {
    this.hasher = new TombstoneHasher(tombstoneSecret(settings));
  }

  /** Records tombstones for these keys (idempotent). */
  async add(db: TenantSql, keys: SourceKey[], erasedOn: string): Promise<void> {
    if (keys.length === 0) return;
    await db.query(
      `INSERT INTO erasure_tombstones (organization_id, key_hash, erased_on)
       SELECT $1, h, $3::date FROM unnest($2::bytea[]) h ON CONFLICT DO NOTHING`,
      [db.organizationId, keys.map((k) => this.hasher.hash(db.organizationId, k)), erasedOn],
    );
  }

  /** Which of these keys belong to an erased patient, as `source NUL external id`. */
  async erased(db: TenantSql, keys: SourceKey[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (keys.length === 0) return out;
    const byHash = new Map<string, SourceKey>();
    for (const k of keys) byHash.set(this.hasher.hash(db.organizationId, k).toString('hex'), k);
    const rows = await db.query<{ key_hash: Buffer }>(
      `SELECT key_hash FROM erasure_tombstones WHERE organization_id = $1 AND key_hash = ANY($2::bytea[])`,
      [db.organizationId, [...byHash.keys()].map((h) => Buffer.from(h, 'hex'))],
    );
    for (const r of rows) {
      const k = byHash.get(r.key_hash.toString('hex'));
      if (k) out.add(`${k.source}\u0000${k.externalId}`);
    }
    return out;
  }
}
