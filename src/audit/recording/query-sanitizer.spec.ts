import { REDACTED, sanitizeQuery } from 'src/audit/recording/query-sanitizer';
import { AuditAction } from 'src/audit/trail/audit-action';
import { outcomeFor } from 'src/audit/recording/request-audit-state';
import { normalizePatientIds } from 'src/audit/trail/audit-event';

describe('sanitizeQuery', () => {
  it('keeps allowlisted values, redacts every other value but keeps its name', () => {
    expect(sanitizeQuery({ limit: '20', status: 'at_risk', from: '2026-01-01T00:00:00Z', search: 'Ada Lovelace', email: 'a@b.c', cursor: 'eyJuIjoiQWRhIn0' })).toEqual({
      limit: '20',
      status: 'at_risk',
      from: '2026-01-01T00:00:00Z',
      search: REDACTED,
      email: REDACTED,
      cursor: REDACTED,
    });
  });

  it('redacts an allowlisted parameter whose value does not look like one (free text smuggled into sort)', () => {
    expect(sanitizeQuery({ sort: 'name desc; Ada Lovelace', limit: ['10', 'Ada Lovelace'] })).toEqual({ sort: REDACTED, limit: ['10', REDACTED] });
  });

  it('drops parameter names that are not plain identifiers (a name could itself be PHI)', () => {
    expect(sanitizeQuery({ 'Ada Lovelace': '1', 'x@y.z': '1', ok_name: 'v' })).toEqual({ ok_name: REDACTED });
    expect(sanitizeQuery(undefined)).toEqual({});
  });
});

describe('outcomeFor', () => {
  it('401, 403 and 404 are denied attempts; other errors failures; the rest successes', () => {
    expect(outcomeFor(401, AuditAction.Read)).toEqual({ action: AuditAction.AccessDenied, outcome: 'denied' });
    expect(outcomeFor(403, AuditAction.List)).toEqual({ action: AuditAction.AccessDenied, outcome: 'denied' });
    expect(outcomeFor(404, AuditAction.Read)).toEqual({ action: AuditAction.AccessDenied, outcome: 'denied' });
    expect(outcomeFor(400, AuditAction.Read)).toEqual({ action: AuditAction.Read, outcome: 'failure' });
    expect(outcomeFor(500, AuditAction.Export)).toEqual({ action: AuditAction.Export, outcome: 'failure' });
    expect(outcomeFor(200, AuditAction.Export)).toEqual({ action: AuditAction.Export, outcome: 'success' });
  });
});

describe('normalizePatientIds', () => {
  it('keeps UUIDs only, lower-cased, first occurrence', () => {
    expect(normalizePatientIds(['AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'Ada', undefined, 42])).toEqual([
      'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    ]);
  });
});
