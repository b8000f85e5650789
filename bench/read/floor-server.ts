/**
 * The floor of the read benchmark: bare `node:http` + `pg`, answering the same JSON with the same SQL as the app
 * (the app's repository statements and row mappers), on the same tenant handles (TenantDb over a pg Pool: each
 * statement with its set_config('app.organization_id') in one round trip, or BEGIN and the setting in one round
 * trip, the statements, COMMIT) as the same runtime role.
 * No framework, no authentication, no validation, no audit: what is left is the database, the decryptions and JSON.
 * The cryptographic work is exactly the app's: the same keyring (patient keys unwrapped once, then cached, as the
 * app's PHI_KEY_CACHE_ENTRIES) and the same mappers, so a list row is one decryption (its contact ciphertext,
 * `patients.contact_enc`) or two for a row stored before it (phone_enc, email_enc), as in the app. The floor has no
 * cache of decrypted values and no page cache: compare it with the app run with PATIENT_PAGE_CACHE_ENTRIES=0 and
 * PHI_DECRYPT_CACHE_ENTRIES=0 (docs/performance.md). JSON here is JSON.stringify; the app's hot routes use their
 * compiled response schemas (fast-json-stringify), which is part of what the app is measured on.
 * Started by bench/read-bench.ts with DATABASE_URL and PORT; prints `listening` when up.
 */
import 'reflect-metadata';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'pg';
import { loadSettings } from 'src/config/settings';
import { connectionConfig } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { OrganizationCounts, PatientCountsRepository } from 'src/patients/patient-counts.repository';
import { countStatus, summarize } from 'src/patients/patient-counts.service';
import { isDeepOffset, PatientsRepository, ProfileListRow } from 'src/patients/patients.repository';
import { toListItem, toProfile } from 'src/patients/profile-mappers';
import { decodeCursor, DEFAULT_ORDER, encodeCursor, ListSpec, ProfileSort, SortOrder, StatusFilter } from 'src/patients/profile-list';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiReader } from 'src/records/phi/phi-reader';
import { riskSummary } from 'src/risk/risk-summary.service';
import { JourneyRepository } from 'src/journey/journey.repository';
import { DEFAULT_TOUCHPOINT_LIMIT, toJourneyResponse } from 'src/journey/journey.service';
import { OPPORTUNITIES_PAGE_SQL, OpportunityRow } from 'src/opportunities/opportunities.repository';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { OpportunityPriority, OpportunityType } from 'src/opportunities/opportunities.enums';
import { toOpportunitiesResponse } from 'src/opportunities/opportunities.service';

const settings = loadSettings(process.env);
const pool = new Pool({ ...connectionConfig(settings.databaseUrl ?? '', { applicationName: 'read-bench-floor' }), max: settings.databasePoolSize });
const tenants = new TenantDb(pool);
const keyring = createPhiKeyring(settings);
const countsRepo = new PatientCountsRepository();
const patients = new PatientsRepository(countsRepo);
const journeys = new JourneyRepository();
const countsCache = new Map<string, OrganizationCounts>();

/**
 * As the app: statements each alone (TenantDb.statements; `prepared` as the app's list pages, journey and profile,
 * whose statements carry their names), or a snapshot for a deep page (TenantDb.read).
 */
function tenant<T>(organizationId: string, work: (db: TenantSql) => Promise<T>, snapshot = false, prepared = false): Promise<T> {
  return snapshot ? tenants.read(organizationId, work, { snapshot: true }) : tenants.statements(organizationId, work, { prepared });
}

async function counts(org: string): Promise<OrganizationCounts> {
  let c = countsCache.get(org);
  if (!c) {
    c = await tenant(org, (db) => countsRepo.organizationCounts(db));
    countsCache.set(org, c);
  }
  return c;
}

async function profiles(org: string, q: URLSearchParams): Promise<unknown> {
  const limit = Number(q.get('limit') ?? 100);
  let spec: ListSpec;
  let skipped: number;
  let statusFilter: StatusFilter;
  const cursor = q.get('cursor');
  if (cursor) {
    const c = decodeCursor(cursor);
    spec = { sort: c.sort, order: c.order, status: c.status === 'all' ? null : c.status, search: c.search, limit, offset: 0, after: c.after };
    skipped = c.skipped;
    statusFilter = c.status;
  } else {
    const sort = (q.get('sort') ?? 'name') as ProfileSort;
    statusFilter = (q.get('status') ?? 'all') as StatusFilter;
    const offset = Number(q.get('offset') ?? 0);
    spec = { sort, order: (q.get('order') as SortOrder | null) ?? DEFAULT_ORDER[sort], status: statusFilter === 'all' ? null : statusFilter, search: null, limit, offset, after: null };
    skipped = offset;
  }
  const [{ rows, keys }, c] = await Promise.all([
    tenant(
      org,
      async (m) => {
        const rows: ProfileListRow[] = await patients.page(m, spec);
        return { rows, keys: await keyring.keysFor(m, rows.slice(0, limit).map((r) => r.id)) };
      },
      isDeepOffset(spec),
      // As the app's: the page's keyed segment is a prepared statement (PatientsRepository.page names it).
      true,
    ),
    counts(org),
  ]);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const total = countStatus(c.groups, spec.status);
  const s = summarize(c.groups);
  return {
    patients: page.map((r) => toListItem(r, new PhiReader(keys.get(r.id), org))),
    total_count: total,
    has_more: skipped + page.length < total,
    summary: { total_patients: s.total, active_patients: s.active, dormant_patients: s.dormant, at_risk_patients: s.atRisk },
    next_cursor:
      rows.length > limit && last
        ? encodeCursor({ sort: spec.sort, order: spec.order, status: statusFilter, search: null, skipped: skipped + page.length, after: { segment: last.segment, key: last.sort_key, id: last.id } })
        : null,
  };
}

async function route(req: IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://floor');
  const m = /^\/api\/v1\/patients\/([0-9a-f-]{36})\/(profiles|risk-summary|opportunities|profile\/([0-9a-f-]{36})|journey\/([0-9a-f-]{36}))$/.exec(url.pathname);
  if (!m) return [404, { detail: 'not found' }];
  const org = m[1];
  if (m[4]) {
    // Journey (issue 7): the app's statement (prepared as the app's) and response mapping.
    const now = new Date();
    const limit = Number(url.searchParams.get('touchpoint_limit') ?? DEFAULT_TOUCHPOINT_LIMIT);
    const [row, keys] = await tenant(
      org,
      (db) => Promise.all([journeys.find(db, m[4], now, limit), keyring.keysFor(db, [m[4]])]),
      false,
      true,
    );
    const phi = new PhiReader(keys.get(m[4]), org);
    return row ? [200, toJourneyResponse(m[4], row, now, (c, place) => phi.text(c, place))] : [404, { detail: 'Patient not found' }];
  }
  if (m[2] === 'opportunities') {
    // Opportunities (issue 7): refresh row and page in one transaction, as the app.
    const q = { type: (url.searchParams.get('type') ?? undefined) as OpportunityType | undefined, priority: (url.searchParams.get('priority') ?? undefined) as OpportunityPriority | undefined };
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const out = await tenant(org, async (mgr) => {
      const st = await mgr.query<{ totals: OpportunityTotal[] }>(`SELECT refreshed_at, ltv_threshold_cents, totals FROM opportunity_refreshes WHERE organization_id = $1`, [org]);
      const rows = await mgr.query<OpportunityRow>(OPPORTUNITIES_PAGE_SQL, [org, q.type ?? null, q.priority ?? null, limit, offset]);
      return toOpportunitiesResponse(rows, st[0]?.totals ?? [], q);
    });
    return [200, out];
  }
  if (m[2] === 'profiles') return [200, await profiles(org, url.searchParams)];
  if (m[2] === 'risk-summary') {
    const c = await counts(org);
    return [200, riskSummary(c.groups, c.lastComputedAt ?? new Date().toISOString())];
  }
  const historyLimit = Number(url.searchParams.get('history_limit') ?? 50);
  const [row, keys] = await tenant(
    org,
    (db) => Promise.all([patients.findProfile(db, m[3], { historyLimit, now: new Date(), withMedical: true }), keyring.keysFor(db, [m[3]])]),
    false,
    true,
  );
  return row ? [200, { patient: toProfile(row, new PhiReader(keys.get(m[3]), org), true) }] : [404, { detail: 'Patient not found' }];
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  route(req).then(
    ([status, body]) => {
      const json = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: err instanceof Error ? err.message : 'error' }));
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(settings.port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
