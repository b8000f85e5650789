import type { PhiDataKey, PhiPlace } from 'src/records/phi/phi-data-key';

/**
 * A patient's phone and email as one ciphertext (`patients.contact_enc`): JSON `{"phone","email"}` under the
 * patient's data key, bound to its own place (`patients` / `contact_enc` / the patient's id), so that the patient
 * list decrypts one value per row instead of two (docs/privacy.md, "The list's contact ciphertext"). `phone_enc` and
 * `email_enc` stay the values of record (profile, exports, blind indexes); this one is written with them, wherever
 * they are written, and is null on rows stored before it existed (the list then reads the two columns, and
 * `npm run rotate-keys` fills it in).
 */
export interface PatientContact {
  phone: string | null;
  email: string | null;
}

export const CONTACT_COLUMN = 'contact_enc';

/** Where a patient's contact ciphertext is stored (its additional authenticated data). */
export const contactPlace = (patientId: string): PhiPlace => ({ table: 'patients', column: CONTACT_COLUMN, row: patientId });

/** The stored contact ciphertext of these values; null when both are null (nothing to read, nothing to decrypt). */
export function encryptContact(key: PhiDataKey, patientId: string, phone: string | null, email: string | null): string | null {
  if (phone === null && email === null) return null;
  return key.encryptJson({ phone, email } satisfies PatientContact, contactPlace(patientId));
}

/** The decrypted JSON back to a contact; anything else than the shape `encryptContact` writes reads as nulls. */
export function parseContact(json: string): PatientContact {
  let v: Partial<Record<keyof PatientContact, unknown>> | null;
  try {
    v = JSON.parse(json) as Partial<Record<keyof PatientContact, unknown>> | null;
  } catch {
    v = null;
  }
  return {
    phone: v !== null && typeof v.phone === 'string' ? v.phone : null,
    email: v !== null && typeof v.email === 'string' ? v.email : null,
  };
}
