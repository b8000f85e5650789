const { core, fixtures } = require('/tmp/fhir-ajv/load.js');
const c = fixtures('Condition')[0];
const s = core.getDataType('Condition');
const cs = s.constraints.filter(x => x.severity === 'error');
const atoms = cs.map(x => core.parseFhirPath(x.expression));
const cpu = (f) => { const t = process.cpuUsage(); f(); const d = process.cpuUsage(t); return d.user + d.system; };
for (let k = 0; k < 2; k++) for (const [i, a] of atoms.entries()) {
  const us = cpu(() => { for (let j = 0; j < 5000; j++) { const root = core.toTypedValue(c); core.evalFhirPathTyped(a, [root], { '%context': root, '%resource': root, '%rootResource': root }); } });
  console.log(cs[i].key, (us / 5000).toFixed(2), 'us');
}
const r = core.toTypedValue(c);
console.log('toTypedValue', (cpu(() => { for (let j = 0; j < 5000; j++) core.toTypedValue(c); }) / 5000).toFixed(2));
