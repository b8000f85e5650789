import { Global, Module } from '@nestjs/common';
import { PhiCipher } from 'src/records/phi/phi-cipher';

/** Patient records: the PHI cipher every module that reads or writes encrypted fields injects. */
@Global()
@Module({
  providers: [PhiCipher],
  exports: [PhiCipher],
})
export class RecordsModule {}
