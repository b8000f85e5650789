import { readFileSync } from 'fs';
import { fitBgNbd } from 'src/scoring/domain/bg-nbd';
import { fitGammaGamma } from 'src/scoring/domain/gamma-gamma';
const rows = readFileSync('/work/shared/data/cdnow/cdnow_customers_summary_with_transactions.csv', 'utf8').trim().split('\n').slice(1).map(l => l.split(',').map(Number));
console.log(rows.length);
let t0 = Date.now();
console.log(fitBgNbd(rows.map(r => ({ x: r[1], tx: r[2], T: r[3] }))), Date.now() - t0);
t0 = Date.now();
console.log(fitGammaGamma(rows.filter(r => r[1] > 0).map(r => ({ x: r[1], zbar: r[4] }))), Date.now() - t0);
