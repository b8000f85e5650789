import { Global, Module } from '@nestjs/common';
import { PatientIdentifiers } from 'src/records/identifiers/patient-identifiers';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { ErasureTombstones } from 'src/records/tombstones/erasure-tombstones';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

/**
 * Patient records: the PHI keyring every module that reads or writes encrypted fields injects (and the master cipher,
 * for files), the erasure tombstones (written by an erasure, read by every way records come in), and the patients'
 * identifiers in outside systems (written by the FHIR import, tombstoned by an erasure).
 */
@Global()
@Module({
  providers: [PhiCipher, PhiKeyring, ErasureTombstones, PatientIdentifiers],
  exports: [PhiCipher, PhiKeyring, ErasureTombstones, PatientIdentifiers],
})
export class RecordsModule {}
