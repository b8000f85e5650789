import { Injectable } from '@nestjs/common';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { Mapped, MedicalList } from 'src/fhir-import/domain/fhir-mapping';
import { issue } from 'src/fhir-import/domain/operation-outcome';
import { logicalRefOf } from 'src/fhir-import/domain/references';
import { FhirImportRepository } from 'src/fhir-import/fhir-import.repository';
import { Prepared, prepareResource } from 'src/fhir-import/fhir-prepare';
import type { IngestRecordResult } from 'src/ingestion/dto/ingest.response';
import { IngestionRepository } from 'src/ingestion/ingestion.repository';
import { IngestionService } from 'src/ingestion/ingestion.service';
import { identifierKey, PatientIdentifiers, PatientIdentifierValue } from 'src/records/identifiers/patient-identifiers';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import type { PhiDataKey, PhiPlace } from 'src/records/phi/phi-data-key';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { ErasureTombstones } from 'src/records/tombstones/erasure-tombstones';

/** What became of one resource. `skipped`: a type (or resource) the app does not use; `superseded`: a Claim already settled by its ExplanationOfBenefit. */
export type ItemStatus = 'created' | 'updated' | 'unchanged' | 'skipped' | 'superseded' | 'rejected';

export interface ItemOutcome {
  status: ItemStatus;
  /** `Type/id` of the resource. */
  location: string | null;
  resourceType: string;
  issues?: OperationOutcomeIssue[];
  /** Why it was skipped. */
  note?: string;
}

export type { Prepared } from 'src/fhir-import/fhir-prepare';

const LISTS: MedicalList[] = ['conditions', 'allergies', 'medications'];

/**
 * The FHIR import's core, shared by the Bundle endpoint, the Bulk NDJSON job and the CLI: a resource is validated
 * (Medplum's FHIR R4 validator), mapped (domain/fhir-mapping.ts) and written through the ingestion's own
 * `writeRecords` (same validation, idempotency by (organization, source, type, external id), stale marking), in the
 * caller's transaction. Medical list items live in `fhir_resources` and are folded into their patient's lists.
 */
@Injectable()
export class FhirImporter {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly ingestionRepository: IngestionRepository,
    private readonly repository: FhirImportRepository,
    private readonly keyring: PhiKeyring,
    private readonly tombstones: ErasureTombstones,
    private readonly identifiers: PatientIdentifiers,
  ) {}

  /** Validates and maps one parsed resource. */
  prepare(value: unknown, source: string): Prepared {
    return prepareResource(value, source);
  }

  /**
   * Writes the patients among `items` (call it for every patient before the other resources that refer to them).
   * Returns the outcomes (by position) and the ids of patients whose records changed.
   */
  async writePatients(db: TenantSql, source: string, items: Prepared[]): Promise<{ outcomes: ItemOutcome[]; touched: string[] }> {
    const outcomes: ItemOutcome[] = items.map((p) => this.early(p));
    const identifiersOf = (i: number): PatientIdentifierValue[] => (items[i].mapped as Extract<Mapped, { kind: 'patient' }>).identifiers ?? [];
    // A patient carrying an identifier of an erased patient is that person again: not recreated (rejected as erased).
    const erased = await this.identifiers.erased(
      db,
      source,
      items.flatMap((p, i) => (p.mapped.kind === 'patient' ? identifiersOf(i) : [])),
    );
    const idx = items
      .map((p, i) => (p.mapped.kind === 'patient' ? i : -1))
      .filter((i) => {
        if (i < 0) return false;
        const at = identifiersOf(i).findIndex((x) => erased.has(identifierKey(x)));
        if (at < 0) return true;
        outcomes[i] = this.erasedPatient(items[i], `Patient.identifier[${at}]`);
        return false;
      });
    if (idx.length === 0) return { outcomes, touched: [] };
    const refs = idx.map((i) => items[i].id as string);
    const ids = await this.ingestionRepository.patientIds(
      db,
      refs.map((externalId) => ({ source, externalId })),
    );
    const lists = await this.listsOf(db, source, refs, ids);
    const records = idx.map((i) => {
      const m = items[i].mapped as Extract<Mapped, { kind: 'patient' }>;
      const l = lists.get(items[i].id as string);
      return { ...m.record, conditions: l?.conditions ?? null, allergies: l?.allergies ?? null, medications: l?.medications ?? null };
    });
    const { results, touched } = await this.ingestion.writeRecords(db, records);
    idx.forEach((i, k) => (outcomes[i] = this.fromResult(items[i], results[k])));
    // Their identifiers, kept as external ids: a patient whose identifiers alone changed is updated.
    const stored = idx
      .map((i, k) => ({ i, id: results[k].id }))
      .filter((x): x is { i: number; id: string } => typeof x.id === 'string' && outcomes[x.i].status !== 'rejected');
    const changed = await this.identifiers.replace(
      db,
      source,
      stored.map((x) => ({ patientId: x.id, identifiers: identifiersOf(x.i) })),
      new Set(stored.filter((x) => outcomes[x.i].status !== 'unchanged').map((x) => x.id.toLowerCase())),
    );
    const all = new Set(touched);
    for (const x of stored) {
      if (!changed.has(x.id.toLowerCase())) continue;
      if (outcomes[x.i].status === 'unchanged') outcomes[x.i] = { ...outcomes[x.i], status: 'updated' };
      all.add(x.id);
    }
    return { outcomes, touched: [...all] };
  }

  /**
   * Writes everything but patients among `items` (their patients stored already): medical list items, then records.
   * A resource whose patient is not stored is rejected, naming the reference.
   */
  async writeOthers(db: TenantSql, source: string, items: Prepared[]): Promise<{ outcomes: ItemOutcome[]; touched: string[] }> {
    await this.resolveIdentifiers(db, source, items);
    const outcomes: ItemOutcome[] = items.map((p) => this.early(p));
    const touched = new Set<string>();

    // Medical list items.
    const listIdx = items.map((p, i) => (p.mapped.kind === 'list-item' ? i : -1)).filter((i) => i >= 0);
    if (listIdx.length > 0) {
      const refs = [...new Set(listIdx.map((i) => (items[i].mapped as Extract<Mapped, { kind: 'list-item' }>).patientRef))];
      const patientIds = await this.ingestionRepository.patientIds(
        db,
        refs.map((externalId) => ({ source, externalId })),
      );
      const idOf = (ref: string): string | undefined => patientIds.get(`${source}\u0000${ref}`);
      const stored = await this.repository.existing(
        db,
        source,
        listIdx.map((i) => ({ resourceType: items[i].resourceType, resourceId: items[i].id as string })),
      );
      // The items' patients' keys (the stored item's former patient too), in one look-up.
      const owners = [...refs, ...[...stored.values()].map((h) => h.patientRef)].map(idOf).filter((id): id is string => id !== undefined);
      const keys = await this.keyring.ensureKeys(db, owners);
      const rows: Parameters<FhirImportRepository['upsert']>[2] = [];
      const changedRefs = new Set<string>();
      const missing = refs.filter((ref) => !idOf(ref));
      const erased = await this.tombstones.erased(
        db,
        missing.map((externalId) => ({ source, externalId })),
      );
      for (const i of listIdx) {
        const p = items[i];
        const m = p.mapped as Extract<Mapped, { kind: 'list-item' }>;
        if (!idOf(m.patientRef)) {
          outcomes[i] = erased.has(`${source}\u0000${m.patientRef}`) ? this.erasedPatient(p) : this.dangling(p, m.patientRef, source);
          continue;
        }
        const key = `${p.resourceType}/${p.id}`;
        const have = stored.get(key);
        const place = itemPlace(source, p.resourceType, p.id as string);
        if (have && have.patientRef === m.patientRef && have.list === m.list && readable(keys.get(idOf(m.patientRef) as string), have.itemEnc, place) === m.item) {
          outcomes[i] = { status: 'unchanged', location: key, resourceType: p.resourceType };
          continue;
        }
        rows.push({
          resourceType: p.resourceType,
          resourceId: p.id as string,
          patientRef: m.patientRef,
          list: m.list,
          itemEnc: keys.get(idOf(m.patientRef) as string).encrypt(m.item, place),
          target: null,
        });
        changedRefs.add(m.patientRef);
        if (have && have.patientRef !== m.patientRef) changedRefs.add(have.patientRef);
        outcomes[i] = { status: have ? 'updated' : 'created', location: key, resourceType: p.resourceType };
      }
      await this.repository.upsert(db, source, rows);
      for (const id of await this.refreshLists(db, source, [...changedRefs])) touched.add(id);
    }

    // Records: a Claim already settled by its ExplanationOfBenefit (stored, or in this very chunk) is superseded.
    const recIdx = items.map((p, i) => (p.mapped.kind === 'record' ? i : -1)).filter((i) => i >= 0);
    if (recIdx.length > 0) {
      const rec = (i: number): Extract<Mapped, { kind: 'record' }> => items[i].mapped as Extract<Mapped, { kind: 'record' }>;
      const claimTargets = recIdx.filter((i) => items[i].resourceType === 'Claim').map((i) => rec(i).record.external_id as string);
      const settled = await this.repository.settled(db, source, claimTargets);
      for (const i of recIdx) if (rec(i).settles) settled.add(rec(i).settles as string);
      const writeIdx: number[] = [];
      for (const i of recIdx) {
        if (items[i].resourceType === 'Claim' && settled.has(rec(i).record.external_id as string)) {
          outcomes[i] = {
            status: 'superseded',
            location: `Claim/${items[i].id}`,
            resourceType: 'Claim',
            note: 'settled by its ExplanationOfBenefit, which wins',
          };
        } else writeIdx.push(i);
      }
      const { results, touched: t } = await this.ingestion.writeRecords(
        db,
        writeIdx.map((i) => rec(i).record),
      );
      t.forEach((id) => touched.add(id));
      writeIdx.forEach((i, k) => (outcomes[i] = this.fromResult(items[i], results[k], source)));
      const settles = writeIdx.filter((i, k) => rec(i).settles && results[k].status !== 'rejected');
      await this.repository.upsert(
        db,
        source,
        settles.map((i) => ({
          resourceType: 'ExplanationOfBenefit',
          resourceId: items[i].id as string,
          patientRef: rec(i).patientRef,
          list: null,
          itemEnc: null,
          target: rec(i).settles as string,
        })),
      );
    }
    return { outcomes, touched: [...touched] };
  }

  /** The outcome of a resource that goes no further than `prepare` (invalid or skipped); the others get theirs later. */
  private early(p: Prepared): ItemOutcome {
    const location = p.id ? `${p.resourceType}/${p.id}` : null;
    if (p.mapped.kind === 'invalid') return { status: 'rejected', location, resourceType: p.resourceType, issues: p.mapped.issues };
    if (p.mapped.kind === 'skipped') return { status: 'skipped', location, resourceType: p.resourceType, note: p.mapped.reason };
    return { status: 'skipped', location, resourceType: p.resourceType, note: 'not written in this step' };
  }

  /**
   * A resource of an erased patient (an erasure tombstone matches its reference, or one of a Patient's identifiers):
   * not stored again.
   */
  private erasedPatient(p: Prepared, element = refElement(p)): ItemOutcome {
    return {
      status: 'rejected',
      location: `${p.resourceType}/${p.id}`,
      resourceType: p.resourceType,
      issues: [
        issue(
          'deleted',
          "erased: names a patient erased at the organization's request: the resource is not stored again (docs/privacy.md, \"Erasure\")",
          element,
        ),
      ],
    };
  }

  /**
   * Resolves the logical patient references (`{ identifier: { system, value } }`) of these items to the patients
   * stored with that identifier in the source (the import's patients are written first): the item then names the
   * patient's id like a literal reference. One not found, carried by several patients, or by an erased patient makes
   * the item invalid (`not-found`, `multiple-matches`, `deleted`), its value never repeated in the issue.
   */
  private async resolveIdentifiers(db: TenantSql, source: string, items: Prepared[]): Promise<void> {
    const logical = items
      .map((p) => ({ p, ref: p.mapped.kind === 'record' || p.mapped.kind === 'list-item' ? logicalRefOf(p.mapped.patientRef) : null }))
      .filter((x): x is { p: Prepared; ref: PatientIdentifierValue } => x.ref !== null);
    if (logical.length === 0) return;
    const wanted = [...new Map(logical.map((x) => [identifierKey(x.ref), x.ref])).values()];
    const found = await this.identifiers.resolve(db, source, wanted);
    const erased = await this.identifiers.erased(
      db,
      source,
      wanted.filter((x) => !found.has(identifierKey(x))),
    );
    for (const { p, ref } of logical) {
      const matches = found.get(identifierKey(ref)) ?? [];
      const mapped = p.mapped as Extract<Mapped, { kind: 'record' | 'list-item' }>;
      if (matches.length === 1) {
        mapped.patientRef = matches[0];
        if (mapped.kind === 'record') mapped.record.patient_external_id = matches[0];
        continue;
      }
      const system = ref.system ? `system "${ref.system}"` : 'no system';
      if (erased.has(identifierKey(ref))) p.mapped = { kind: 'invalid', issues: this.erasedPatient(p).issues ?? [] };
      else if (matches.length === 0)
        p.mapped = {
          kind: 'invalid',
          issues: [
            issue(
              'not-found',
              `No patient with this identifier (${system}) was found: none in this import or stored for source "${source}"`,
              refElement(p),
            ),
          ],
        };
      else
        p.mapped = {
          kind: 'invalid',
          issues: [
            issue(
              'multiple-matches',
              `${matches.length} patients of source "${source}" carry this identifier (${system}): the reference is ambiguous`,
              refElement(p),
            ),
          ],
        };
    }
  }

  private dangling(p: Prepared, ref: string, source: string): ItemOutcome {
    const element = refElement(p);
    return {
      status: 'rejected',
      location: `${p.resourceType}/${p.id}`,
      resourceType: p.resourceType,
      issues: [
        {
          ...issue('not-found', `Patient/${ref} was not found: it is neither in this import nor stored for source "${source}"`, element),
          diagnostics: `${p.resourceType}/${p.id}`,
        },
      ],
    };
  }

  private fromResult(p: Prepared, r: IngestRecordResult, source = ''): ItemOutcome {
    const location = `${p.resourceType}/${p.id}`;
    if (r.status !== 'rejected') return { status: r.status, location, resourceType: p.resourceType };
    const elements = p.mapped.kind === 'patient' || p.mapped.kind === 'record' ? p.mapped.elements : {};
    const errors = r.errors ?? [];
    if (r.reason === 'erased') {
      // The patient was erased (an erasure tombstone matches): FHIR's `deleted`, the reference names erased content.
      return {
        status: 'rejected',
        location,
        resourceType: p.resourceType,
        issues: errors.map((e) => issue('deleted', `erased: ${e.message}`, elements[e.field.split('.')[0]] ?? p.resourceType)),
      };
    }
    const ref = errors.find((e) => e.field === 'patient_external_id');
    if (ref && p.mapped.kind === 'record') return this.dangling(p, p.mapped.patientRef, source);
    // A record the ingestion refuses (invalid, or a rule of its own: a consent decision changed once stored, ...):
    // each reason an issue on the element the field came from, naming the resource.
    return {
      status: 'rejected',
      location,
      resourceType: p.resourceType,
      issues: errors.map((e) => ({
        ...issue('invalid', e.message, elements[e.field.split('.')[0]] ?? p.resourceType),
        diagnostics: location,
      })),
    };
  }

  /** The patients' lists from their stored items: sorted, without repeats, at most 100 (the record's limit); null when empty. */
  private async listsOf(
    db: TenantSql,
    source: string,
    refs: string[],
    ids: Map<string, string>,
  ): Promise<Map<string, Record<MedicalList, string[] | null>>> {
    const out = new Map<string, Record<MedicalList, string[] | null>>();
    const items = await this.repository.listItems(db, source, refs);
    const keys = await this.keyring.keysFor(db, ids.values());
    const sets = new Map<string, Record<MedicalList, Set<string>>>();
    for (const it of items) {
      const s = sets.get(it.patientRef) ?? { conditions: new Set(), allergies: new Set(), medications: new Set() };
      const owner = ids.get(`${source}\u0000${it.patientRef}`);
      const text = owner ? readable(keys.get(owner), it.itemEnc, itemPlace(source, it.resourceType, it.resourceId)) : null;
      if (text && LISTS.includes(it.list as MedicalList)) s[it.list as MedicalList].add(text);
      sets.set(it.patientRef, s);
    }
    for (const ref of refs) {
      const s = sets.get(ref);
      const list = (l: MedicalList): string[] | null => (s && s[l].size > 0 ? [...s[l]].sort().slice(0, 100) : null);
      out.set(ref, { conditions: list('conditions'), allergies: list('allergies'), medications: list('medications') });
    }
    return out;
  }

  /** Rewrites the lists of these (stored) patients from their items; returns the ids of those that changed. */
  private async refreshLists(db: TenantSql, source: string, refs: string[]): Promise<string[]> {
    if (refs.length === 0) return [];
    const ids = await this.ingestionRepository.patientIds(
      db,
      refs.map((externalId) => ({ source, externalId })),
    );
    const lists = await this.listsOf(db, source, refs, ids);
    const keys = await this.keyring.ensureKeys(db, ids.values());
    const rows: Parameters<FhirImportRepository['setLists']>[1] = [];
    for (const ref of refs) {
      const id = ids.get(`${source}\u0000${ref}`);
      const l = lists.get(ref);
      if (!id || !l) continue;
      const key = keys.get(id);
      const at = (column: string): PhiPlace => ({ table: 'patients', column, row: id });
      rows.push({
        id,
        conditionsEnc: key.encryptJson(l.conditions, at('conditions_enc')),
        allergiesEnc: key.encryptJson(l.allergies, at('allergies_enc')),
        medicationsEnc: key.encryptJson(l.medications, at('medications_enc')),
      });
    }
    await this.repository.setLists(db, rows);
    const changed = rows.map((r) => r.id);
    await this.ingestionRepository.markStale(db, changed);
    return changed;
  }
}

/** The element of a resource that names its patient (`Encounter.subject`, `AllergyIntolerance.patient`...). */
function refElement(p: Prepared): string {
  if (p.mapped.kind === 'record') return p.mapped.elements.patient_external_id ?? p.resourceType;
  return `${p.resourceType}.${p.resourceType === 'AllergyIntolerance' ? 'patient' : 'subject'}`;
}

/** Where a list item's text is stored: `fhir_resources` is keyed by (organization, source, resource type, resource id). */
const itemPlace = (source: string, resourceType: string, resourceId: string): PhiPlace => ({
  table: 'fhir_resources',
  column: 'item_enc',
  row: `${source}/${resourceType}/${resourceId}`,
});

/** The item's text, or null when it does not decrypt (moved, or its patient's key destroyed): it is then rewritten or left out. */
function readable(key: PhiDataKey, value: string | null, place: PhiPlace): string | null {
  try {
    return key.decrypt(value, place);
  } catch (err) {
    if (err instanceof PhiDecryptError) return null;
    throw err;
  }
}
