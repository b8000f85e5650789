require('ts-node').register({ transpileOnly: true }); require('tsconfig-paths/register');
require('/tmp/fhir-ajv/load.js');
const m = require('/work/wt/fhir-ajv/src/fhir-import/fhir-schema.ts');
const v = m.schemaValidator('Claim');
console.log(JSON.stringify(v.schema).slice(0,300));
const claim = { resourceType: 'Claim', id: 'k1', status: 'active', type: { text: 'professional' }, use: 'claim', patient: { reference: 'Patient/p1' }, provider: { display: 'Clinic' }, priority: { text: 'normal' }, insurance: [{ sequence: 1, focal: true, coverage: { display: 'Self pay' } }] };
console.log(v(claim), v.errors);
