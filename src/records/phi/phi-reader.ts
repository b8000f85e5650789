import { Logger } from '@nestjs/common';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import type { PhiDataKey, PhiPlace } from 'src/records/phi/phi-data-key';
import { contactPlace, parseContact, PatientContact } from 'src/records/phi/patient-contact';

const logger = new Logger('PhiReader');

/**
 * Decryption for an answer: a value that does not decrypt (copied from another row, altered, or its key destroyed)
 * reads as null instead of failing the whole answer, and is logged with its place only (organization, table,
 * column, row id: never a value). The answer never carries another place's data: authentication fails first.
 */
export class PhiReader {
  private failures = 0;

  constructor(
    private readonly key: PhiDataKey,
    private readonly organizationId: string,
  ) {}

  /** How many values of this answer could not be read. */
  get unreadable(): number {
    return this.failures;
  }

  text(value: string | null, place: PhiPlace): string | null {
    try {
      return this.key.decrypt(value, place);
    } catch (err) {
      return this.failed(err, place);
    }
  }

  /** Through the keyring's cache of recently decrypted values (the list's phone and email). */
  recent(value: string | null, place: PhiPlace): string | null {
    try {
      return this.key.decryptRecent(value, place);
    } catch (err) {
      return this.failed(err, place);
    }
  }

  /**
   * A patient's contact ciphertext (`patients.contact_enc`, src/records/phi/patient-contact.ts): phone and email in
   * one decryption, through the keyring's cache of recently decrypted values; both null when unreadable.
   */
  contact(value: string, patientId: string): PatientContact {
    const place = contactPlace(patientId);
    try {
      return parseContact(this.key.decryptRecent(value, place) as string);
    } catch (err) {
      this.failed(err, place);
      return { phone: null, email: null };
    }
  }

  json<T>(value: string | null, place: PhiPlace): T | null {
    try {
      return this.key.decryptJson<T>(value, place);
    } catch (err) {
      return this.failed(err, place);
    }
  }

  private failed(err: unknown, place: PhiPlace): null {
    if (!(err instanceof PhiDecryptError)) throw err;
    this.failures++;
    logger.warn(
      `Unreadable PHI value, answered as null: organization ${this.organizationId}, ${place.table}.${place.column} of row ${place.row} (${err.message})`,
    );
    return null;
  }
}
