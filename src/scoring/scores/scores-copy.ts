import { BinaryCopyWriter, timestampMicros } from 'src/database/binary-copy';
import type { PatientScores } from 'src/scoring/patient-scores';

/** Columns of the results handed back to PostgreSQL, in COPY order, with their SQL types. */
export const RESULT_COLUMNS: readonly (readonly [string, string, (s: PatientScores) => string | number | boolean | null])[] = [
  ['patient_id', 'uuid', (s) => s.patientId],
  ['sort_name', 'text', (s) => s.sortName],
  ['status', 'text', (s) => s.status],
  ['risk_score', 'real', (s) => s.riskScore],
  ['risk_level', 'text', (s) => s.riskLevel],
  ['risk_factors', 'jsonb', (s) => JSON.stringify(s.riskFactors)],
  ['risk_trend', 'text', (s) => s.riskTrend],
  ['engagement_score', 'real', (s) => s.engagementScore],
  ['ltv_cents', 'integer', (s) => s.ltvCents],
  ['historical_revenue_cents', 'integer', (s) => s.historicalRevenueCents],
  ['future_value_cents', 'integer', (s) => s.futureValueCents],
  ['referral_value_cents', 'integer', (s) => s.referralValueCents],
  ['total_sessions', 'integer', (s) => s.totalSessions],
  ['avg_session_value_cents', 'integer', (s) => s.avgSessionValueCents],
  ['last_appointment_ms', 'float8', (s) => s.lastAppointmentAt],
  ['next_appointment_ms', 'float8', (s) => s.nextAppointmentAt],
  ['last_contact_ms', 'float8', (s) => s.lastContactAt],
  ['success_probability', 'real', (s) => s.successProbability],
  ['first_visit_ms', 'float8', (s) => s.firstVisitAt],
  ['record_history', 'boolean', (s) => s.recordHistory],
  ['has_metrics', 'boolean', (s) => s.hasMetrics],
];
export const COLUMN_LIST = RESULT_COLUMNS.map(([name]) => name).join(', ');
export const COLUMN_DEFS = RESULT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

/** The patient_metrics columns a write sets from the results (besides stale and the timestamps). */
export const METRIC_COLUMNS = [
  'sort_name',
  'status',
  'risk_score',
  'risk_level',
  'risk_factors',
  'risk_trend',
  'engagement_score',
  'ltv_cents',
  'historical_revenue_cents',
  'future_value_cents',
  'referral_value_cents',
  'total_sessions',
  'avg_session_value_cents',
  'last_appointment_at',
  'next_appointment_at',
  'last_contact_at',
  'success_probability',
  'first_visit_at',
] as const;
/** Results columns that are not copied as they are: dates travel as epoch milliseconds. */
export const METRIC_VALUE: Partial<Record<(typeof METRIC_COLUMNS)[number], string>> = {
  last_appointment_at: 'to_timestamp(t.last_appointment_ms / 1000)',
  next_appointment_at: 'to_timestamp(t.next_appointment_ms / 1000)',
  last_contact_at: 'to_timestamp(t.last_contact_ms / 1000)',
  first_visit_at: 'to_timestamp(t.first_visit_ms / 1000)',
};

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function copyValue(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return SPECIAL.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : value;
}

/** COPY text of a nullable number (also the COPY form of a string of digits). */
function copyNumber(value: number | null): string {
  return value === null ? '\\N' : String(value);
}

/**
 * One COPY line (without its newline) of the results, in RESULT_COLUMNS order, as `copyValue` formats each value:
 * written out, since mapping the column list per row (closures, an array, a join) cost about twice as much. The id
 * (a uuid), the status, level and trend (fixed words) and the booleans never need escaping: written as they are.
 */
export function copyLine(s: PatientScores): string {
  return `${s.patientId}\t${copyValue(s.sortName)}\t${s.status}\t${copyNumber(s.riskScore)}\t${s.riskLevel}\t${copyValue(
    JSON.stringify(s.riskFactors),
  )}\t${s.riskTrend}\t${copyNumber(s.engagementScore)}\t${copyNumber(s.ltvCents)}\t${copyNumber(s.historicalRevenueCents)}\t${copyNumber(
    s.futureValueCents,
  )}\t${copyNumber(s.referralValueCents)}\t${copyNumber(s.totalSessions)}\t${copyNumber(s.avgSessionValueCents)}\t${copyNumber(
    s.lastAppointmentAt,
  )}\t${copyNumber(s.nextAppointmentAt)}\t${copyNumber(s.lastContactAt)}\t${copyNumber(s.successProbability)}\t${copyNumber(s.firstVisitAt)}\t${
    s.recordHistory ? 't' : 'f'
  }\t${s.hasMetrics === null ? '\\N' : s.hasMetrics ? 't' : 'f'}`;
}

/** A number as JSON.stringify writes it (a non-finite one is null). */
function jsonNumber(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'null' : String(value);
}

/**
 * One results row as a JSON object, the text `JSON.stringify` gives the object of RESULT_COLUMNS' names and values
 * (risk_factors as its nested value): written out as copyLine is, without building that object.
 */
export function jsonLine(s: PatientScores): string {
  return `{"patient_id":${JSON.stringify(s.patientId)},"sort_name":${JSON.stringify(s.sortName)},"status":${JSON.stringify(s.status)},"risk_score":${jsonNumber(
    s.riskScore,
  )},"risk_level":${JSON.stringify(s.riskLevel)},"risk_factors":${JSON.stringify(s.riskFactors)},"risk_trend":${JSON.stringify(s.riskTrend)},"engagement_score":${jsonNumber(
    s.engagementScore,
  )},"ltv_cents":${jsonNumber(s.ltvCents)},"historical_revenue_cents":${jsonNumber(s.historicalRevenueCents)},"future_value_cents":${jsonNumber(
    s.futureValueCents,
  )},"referral_value_cents":${jsonNumber(s.referralValueCents)},"total_sessions":${jsonNumber(s.totalSessions)},"avg_session_value_cents":${jsonNumber(
    s.avgSessionValueCents,
  )},"last_appointment_ms":${jsonNumber(s.lastAppointmentAt)},"next_appointment_ms":${jsonNumber(s.nextAppointmentAt)},"last_contact_ms":${jsonNumber(
    s.lastContactAt,
  )},"success_probability":${jsonNumber(s.successProbability)},"first_visit_ms":${jsonNumber(s.firstVisitAt)},"record_history":${
    s.recordHistory ? 'true' : 'false'
  },"has_metrics":${s.hasMetrics === null ? 'null' : s.hasMetrics ? 'true' : 'false'}}`;
}

/**
 * The JSON array of `scores` (jsonLine each) as UTF-8 bytes, for a `json` parameter sent in binary (json's binary
 * form is its text): written row by row into one buffer, so that no string of the whole array is ever built. A
 * 200-patient clinic's array is about 150 kB: as one string (JSON.stringify) it was a large object of V8's, flattened
 * again when pg measured its UTF-8 length (about 1.5 ms of the worker's CPU per clinic on this machine, mostly fresh
 * pages), then copied once more as UTF-8.
 */
export function jsonRowsBuffer(scores: readonly PatientScores[]): Buffer {
  const lines = new Array<string>(scores.length);
  let bytes = 2 + Math.max(0, scores.length - 1);
  for (let i = 0; i < scores.length; i++) {
    lines[i] = jsonLine(scores[i]);
    bytes += Buffer.byteLength(lines[i]);
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  out[at++] = 0x5b; // [
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(lines[i], at, 'utf8');
  }
  out[at] = 0x5d; // ]
  return out;
}

/** The COPY text of `scores`, one line each, as RESULT_COLUMNS and copyValue define it (the reference). */
export function toCopyText(scores: readonly PatientScores[]): string {
  let text = '';
  for (const s of scores) {
    text += RESULT_COLUMNS.map(([, , get]) => copyValue(get(s))).join('\t') + '\n';
  }
  return text;
}

/** The same text as `toCopyText`, in pieces of `rowsPerPiece` lines (streamed as they are: no one huge string). */
export function toCopyPieces(scores: readonly PatientScores[], rowsPerPiece = 2000): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < scores.length; i += rowsPerPiece) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(scores.length, i + rowsPerPiece); j++) lines.push(copyLine(scores[j]));
    pieces.push(lines.join('\n') + '\n');
  }
  return pieces;
}

/**
 * Today's risk-history rows ($1 organization, $2 now, $3 today) of the results in table `t` whose score moved at
 * least `riskHistoryStep` from the last recorded one (`record_history`).
 */
export function recordHistorySql(t: string, scores: readonly PatientScores[]): string {
  return `
         INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score, created_at, updated_at)
         SELECT $1, t.patient_id, $3::date, t.risk_score, $2, $2 FROM ${t} t WHERE ${scores.some((s) => s.recordHistory) ? 't.record_history' : 'FALSE'}
         ON CONFLICT (patient_id, recorded_on) DO UPDATE SET risk_score = EXCLUDED.risk_score, updated_at = EXCLUDED.updated_at`;
}

/** `INSERT INTO table (...) SELECT ...` of metrics rows ($1 organization, $2 now), to be followed by `FROM <results> t`. */
export function insertMetricsSql(table: string): string {
  return `INSERT INTO ${table} (organization_id, patient_id, ${METRIC_COLUMNS.join(', ')}, stale, computed_at, created_at, updated_at)
       SELECT $1, t.patient_id, ${METRIC_COLUMNS.map((c) => METRIC_VALUE[c] ?? `t.${c}`).join(', ')}, false, $2, $2, $2`;
}

/** The scores in patient id order (the primary key's order within an organization), as a new array. */
export function sortedByPatient(scores: readonly PatientScores[]): PatientScores[] {
  return [...scores].sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
}

/** The columns of a metrics row as `freshCopyBinary` writes them, for `COPY <table> (...) FROM STDIN (FORMAT binary)`. */
export const FRESH_COPY_COLUMNS = ['organization_id', 'patient_id', ...METRIC_COLUMNS, 'stale', 'computed_at', 'created_at', 'updated_at'].join(', ');
const FRESH_FIELDS = FRESH_COPY_COLUMNS.split(', ').length;

/** A nullable instant in epoch milliseconds as the results' INSERT stores it (`to_timestamp(ms / 1000)`: timestampMicros). */
function instant(w: BinaryCopyWriter, ms: number | null): void {
  if (ms === null) w.null();
  else w.timestamptz(timestampMicros(ms));
}

/**
 * The rebuild's fresh table's rows of `scores` in binary COPY format, in FRESH_COPY_COLUMNS order: the rows
 * `insertMetricsSql` makes of the results' lines (copyLine), written straight into the fresh table. Binary, not text:
 * PostgreSQL receives the reals, integers, uuids and seven instants a row as they are instead of parsing them from
 * text, and Node writes them into buffers instead of building a string of each (docs/scoring.md, "Rebuild and swap").
 * The reals are rounded to single precision here rather than parsed from their shortest decimal text by the server:
 * the same value but for a double that lies exactly halfway between two singles.
 */
export function freshCopyBinary(scores: readonly PatientScores[], organizationId: string, now: Date): Buffer[] {
  const w = new BinaryCopyWriter();
  const at = timestampMicros(now.getTime());
  for (const s of scores) {
    w.tuple(FRESH_FIELDS);
    w.uuid(organizationId);
    w.uuid(s.patientId);
    w.text(s.sortName);
    w.text(s.status);
    w.float4(s.riskScore);
    w.text(s.riskLevel);
    w.jsonb(JSON.stringify(s.riskFactors));
    w.text(s.riskTrend);
    w.float4(s.engagementScore);
    w.int4(s.ltvCents);
    w.int4(s.historicalRevenueCents);
    w.int4(s.futureValueCents);
    w.int4(s.referralValueCents);
    w.int4(s.totalSessions);
    w.int4(s.avgSessionValueCents);
    instant(w, s.lastAppointmentAt);
    instant(w, s.nextAppointmentAt);
    instant(w, s.lastContactAt);
    w.float4(s.successProbability);
    instant(w, s.firstVisitAt);
    w.bool(false);
    w.timestamptz(at);
    w.timestamptz(at);
    w.timestamptz(at);
  }
  return w.pieces();
}

/**
 * Today's risk-history rows ($1 organization, $2 now, $3 today) of the patients in $4 (uuid[]) with the scores in $5
 * (real[], the same text as the results' COPY): the rows recordHistorySql writes for the results whose
 * `record_history` is set, without a results table.
 */
export const RECORD_HISTORY_ARRAYS_SQL = `
         INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score, created_at, updated_at)
         SELECT $1, u.patient_id, $3::date, u.risk_score, $2, $2 FROM unnest($4::uuid[], $5::real[]) AS u(patient_id, risk_score)
         ON CONFLICT (patient_id, recorded_on) DO UPDATE SET risk_score = EXCLUDED.risk_score, updated_at = EXCLUDED.updated_at`;
