/** The CDNOW sample (2,357 customers, weeks) used by Fader, Hardie & Lee, read from the shared data folder. */
import { readFileSync } from 'fs';

export const CDNOW_CSV = '/work/shared/data/cdnow/cdnow_customers_summary_with_transactions.csv';

export interface CdnowCustomer {
  id: number;
  x: number;
  tx: number;
  T: number;
  zbar: number;
}

export function readCdnow(path = CDNOW_CSV): CdnowCustomer[] {
  const [, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  return lines.map((line) => {
    const [id, x, tx, T, zbar] = line.split(',').map(Number);
    return { id, x, tx, T, zbar };
  });
}

/** Published estimates (Fader, Hardie & Lee 2005a, 2005b). */
export const CDNOW_PUBLISHED = {
  bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4 },
  gammaGamma: { p: 6.25, q: 3.74, v: 15.44 },
} as const;
