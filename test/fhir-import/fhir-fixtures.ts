import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const DIR = join(__dirname, '..', 'fixtures', 'fhir');

/** The 13-patient Bulk export's files (name → NDJSON text), in a fixed order. */
export const BULK_FILES = ['Patient', 'Condition', 'AllergyIntolerance', 'Encounter', 'MedicationRequest', 'Immunization'];

export function bulkFile(type: string): string {
  return gunzipSync(readFileSync(join(DIR, 'bulk-13-patients', `${type}.000.ndjson.gz`))).toString('utf8');
}

export function claimsFile(): string {
  return readFileSync(join(DIR, 'claims-eob.ndjson'), 'utf8');
}

export type Json = Record<string, any>;

export function resources(ndjson: string): Json[] {
  return ndjson
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Json);
}

export const ref = (r: Json | undefined): string | null =>
  typeof r?.reference === 'string' ? (r.reference as string).replace(/^Patient\//, '') : null;
