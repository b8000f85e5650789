import { fitBgNbd } from 'src/scoring/domain/bg-nbd';
import { fitGammaGamma } from 'src/scoring/domain/gamma-gamma';
import { simulateBgNbd, simulateGammaGamma } from 'src/scoring/domain/simulation';
const truth = { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 };
const [n, minT, maxT] = process.argv.slice(2).map(Number);
for (let seed = 1; seed <= 6; seed++) {
  const t0 = Date.now();
  const f = fitBgNbd(simulateBgNbd(truth, n, { minT, maxT }, seed));
  const err = (['r','alpha','a','b'] as const).map(k => ((f[k] / truth[k] - 1) * 100).toFixed(1));
  const g = fitGammaGamma(simulateGammaGamma({ p: 6.25, q: 3.74, v: 15.44 }, n, 10, seed));
  const gerr = ([['p',6.25],['q',3.74],['v',15.44]] as const).map(([k,v]) => ((g[k] / v - 1) * 100).toFixed(1));
  console.log(seed, err.join(' '), '|', gerr.join(' '), Date.now() - t0, 'ms');
}
