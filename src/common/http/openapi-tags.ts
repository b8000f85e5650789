/** The document's tags (Swagger UI's sections, the SDK's groups), in the order Swagger UI shows them. */
export const OPENAPI_TAGS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'me', description: 'The caller and its organizations: where a client finds the organization ids of the other calls.' },
  {
    name: 'patients',
    description: "The organization's patients: the list with status, scores and lifetime value, one patient in full, and their consent.",
  },
  { name: 'journey', description: "A patient's journey: stages, automation sequence and touchpoints." },
  { name: 'risk', description: 'How the patients split by risk level and trend.' },
  { name: 'opportunities', description: 'Patients worth reengaging, with a consent-aware suggested action.' },
  { name: 'engagement', description: 'Organization-wide engagement, satisfaction and NPS over time.' },
  {
    name: 'analytics',
    description: 'De-identified data sets for research and benchmarking (HIPAA Safe Harbor, small cells suppressed), with their report.',
  },
  { name: 'ingestion', description: 'Records from outside systems (EHR, scheduling, billing, messaging, surveys, automation).' },
  { name: 'fhir', description: 'FHIR R4 in: transaction and batch Bundles, Bulk Data NDJSON imports (docs/fhir.md).' },
  { name: 'audit', description: "The audit trail of every access to patients' data, and its hash-chain verification." },
  { name: 'privacy', description: "Patients' rights: one patient's complete record (FHIR or JSON) and the organization's bulk export (FHIR NDJSON)." },
  { name: 'members', description: "The organization's members and their roles." },
  { name: 'api-keys', description: 'Integration API keys.' },
  { name: 'organization-settings', description: "The organization's scoring settings." },
  { name: 'jobs', description: "The organization's background job runs (nightly recompute, refreshes, exports, imports)." },
  { name: 'health', description: 'Liveness and readiness probes (no token needed).' },
];
