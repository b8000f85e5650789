import { Global, Module } from '@nestjs/common';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

/** Patient records: the PHI keyring every module that reads or writes encrypted fields injects (and the master cipher, for files). */
@Global()
@Module({
  providers: [PhiCipher, PhiKeyring],
  exports: [PhiCipher, PhiKeyring],
})
export class RecordsModule {}
