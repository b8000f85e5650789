require('ts-node').register({ transpileOnly: true }); require('tsconfig-paths/register');
const { med, fixtures } = require('/tmp/fhir-ajv/load.js');
const { schemaValidator, invariantsHold } = require('/work/wt/fhir-ajv/src/fhir-import/fhir-schema.ts');
const cpu = (f) => { const t = process.cpuUsage(); f(); const c = process.cpuUsage(t); return c.user + c.system; };
for (const type of ['Patient','Encounter','Condition','MedicationRequest']) {
  const rs = fixtures(type); const val = schemaValidator(type);
  const n = Math.max(1, Math.ceil(3000 / rs.length));
  for (let i=0;i<2;i++) { rs.forEach(r=>val(r)); rs.forEach(r=>invariantsHold(r)); }
  const a = cpu(() => { for (let i=0;i<n;i++) rs.forEach(r=>val(r)); });
  const b = cpu(() => { for (let i=0;i<n;i++) rs.forEach(r=>invariantsHold(r)); });
  const c = cpu(() => { for (let i=0;i<Math.ceil(n/3);i++) rs.forEach(r=>med(r)); });
  console.log(type, 'ajv', (a/n/rs.length).toFixed(1), 'inv', (b/n/rs.length).toFixed(1), 'medplum', (c/Math.ceil(n/3)/rs.length).toFixed(1));
}
