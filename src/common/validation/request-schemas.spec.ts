import 'reflect-metadata';
import { ArgumentMetadata } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { ProblemException } from 'src/common/problem/problem';
import { ProblemValidationPipe } from 'src/common/validation/problem-validation.pipe';
import { createAjv, PartSchema, requestValidatorCompiler, SCHEMA_ROUTES, schemaValidatedAs } from 'src/common/validation/request-schemas';
// The controllers whose routes declare schemas (importing them runs their decorators).
import 'src/journey/journey.controller';
import 'src/opportunities/opportunities.controller';
import 'src/patients/patients.controller';
import 'src/risk/risk-summary.controller';

const ORG = '0b6c3b7e-5f0a-4c1e-9a55-2f7f1d2c9e10';
const PATIENT = 'D2A6E0C4-1B7F-4E3A-8C9D-0123456789AB';

/** Query inputs as Fastify hands them over (values are strings, a repeated key an array). */
const QUERIES: Record<string, unknown>[] = [
  {}, { limit: '1' }, { limit: '50' }, { limit: '1000' }, { limit: '0' }, { limit: '1001' }, { limit: '1.5' }, { limit: '' }, { limit: 'abc' },
  { limit: ' 7 ' }, { limit: '1e2' }, { limit: 'Infinity' }, { limit: '-Infinity' }, { limit: '007' }, { limit: '+7' }, { limit: ['5', '6'] },
  { offset: '0' }, { offset: '-0' }, { offset: '-1' }, { offset: '250' }, { offset: '100000000' }, { offset: '100000001' }, { offset: '' },
  { unknown: 'x' }, { type: 'overdue_appointment' }, { type: 'nope' }, { priority: 'high', limit: '20' }, { priority: ['high', 'low'] },
  { history_limit: '1' }, { history_limit: '500' }, { history_limit: '501' }, { history_limit: '499' }, { touchpoint_limit: '1' },
  { touchpoint_limit: '0' }, { touchpoint_limit: '12' }, { touchpoint_limit: '500' }, { sort: 'ltv', status: 'at_risk', order: 'asc' },
  { sort: 'LTV' }, { status: 'all', limit: '50' }, { order: 'up' }, { search: 'Ada' }, { search: '' }, { cursor: 'eyJhIjoxfQ' },
  { cursor: 'a+b' }, { cursor: '' }, { cursor: 'x'.repeat(1201) }, { sort: ['ltv', 'name'] },
];
const PARAMS: Record<string, unknown>[] = [
  { organizationId: ORG }, { organizationId: ORG.toUpperCase() }, { organizationId: 'nope' }, { organizationId: '00000000-0000-0000-0000-000000000000' },
  { organizationId: '0b6c3b7e-5f0a-9c1e-9a55-2f7f1d2c9e10' }, { organizationId: ORG, patientId: PATIENT }, { organizationId: ORG, patientId: 'x' },
  { organizationId: ORG, patientId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }, { organizationId: ORG, patientId: PATIENT, extra: '1' },
];

type Verdict = { ok: true; value: unknown } | { ok: false; problem: unknown };

async function piped(pipe: ProblemValidationPipe, value: unknown, metadata: ArgumentMetadata): Promise<Verdict> {
  try {
    return { ok: true, value: await pipe.transform(value, metadata) };
  } catch (err) {
    if (err instanceof ProblemException) return { ok: false, problem: err.toProblem() };
    throw err;
  }
}

describe('route schemas of the hot read routes (Fastify validation in front of class-validator)', () => {
  const pipe = new ProblemValidationPipe();
  const compile = requestValidatorCompiler(createAjv());
  const parts: [string, 'param' | 'query', PartSchema][] = [];
  for (const [handler, route] of SCHEMA_ROUTES) {
    parts.push([handler.name, 'param', route.params]);
    if (route.querystring) parts.push([handler.name, 'query', route.querystring]);
  }

  it('covers the hot read routes', () => {
    expect([...SCHEMA_ROUTES.keys()].map((h) => h.name).sort()).toEqual([
      'getPatientJourney', 'getPatientProfile', 'getRiskSummary', 'listOpportunities', 'listPatientProfiles',
    ]);
  });

  it.each(parts)('%s %s: accepts nothing its DTO refuses, gives the DTO\'s instance, and leaves every refusal to class-validator', async (_name, type, part) => {
    const metadata: ArgumentMetadata = { type, metatype: part.dto as ArgumentMetadata['metatype'] };
    const check = compile({ schema: part.schema, method: 'GET', url: '/', httpPart: type === 'param' ? 'params' : 'querystring' }) as (d: unknown) => unknown;
    const rows: { input: unknown; schema: boolean; dto: boolean; marked: boolean; same: boolean; instance: boolean }[] = [];
    for (const input of type === 'param' ? PARAMS : QUERIES) {
      const byClassValidator = await piped(pipe, structuredClone(input), metadata);
      const data = structuredClone(input);
      const schema = check(data) === true;
      const marked = schemaValidatedAs(data) === part.dto;
      const byPipe = await piped(pipe, data, metadata);
      rows.push({
        input,
        schema,
        dto: byClassValidator.ok,
        marked,
        same: isDeepStrictEqual(byPipe.ok ? { ok: true, value: { ...(byPipe.value as object) } } : byPipe, byClassValidator.ok ? { ok: true, value: { ...(byClassValidator.value as object) } } : byClassValidator),
        instance: !byPipe.ok || byPipe.value instanceof (part.dto as new () => object),
      });
    }
    // Never more permissive than the DTO; marked exactly when accepted; the pipe's answer (value or problem) is the DTO's.
    expect(rows.filter((r) => r.schema && !r.dto)).toEqual([]);
    expect(rows.filter((r) => r.schema !== r.marked)).toEqual([]);
    expect(rows.filter((r) => !r.same || !r.instance)).toEqual([]);
    // And the plain valid inputs do take the schema's path.
    expect(rows.filter((r) => r.schema).length).toBeGreaterThanOrEqual(2);
  });

  it('a limit the schema refuses is answered with the DTO\'s own message', async () => {
    const [, , part] = parts.find(([name, type]) => name === 'listPatientProfiles' && type === 'query')!;
    const check = compile({ schema: part.schema, method: 'GET', url: '/', httpPart: 'querystring' }) as (d: unknown) => unknown;
    const data = { limit: '5000' };
    expect(check(data)).not.toBe(true);
    const verdict = await piped(pipe, data, { type: 'query', metatype: part.dto as ArgumentMetadata['metatype'] });
    expect(verdict).toMatchObject({ ok: false, problem: { status: 400, errors: [{ in: 'query', field: 'limit', message: 'limit must be an integer from 1 to 1000' }] } });
  });
});
