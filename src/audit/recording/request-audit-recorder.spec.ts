import type { FastifyReply } from 'fastify';
import { AuditedOptions } from 'src/audit/recording/audited.decorator';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { AuditableRequest, auditState } from 'src/audit/recording/request-audit-state';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditEventContent } from 'src/audit/trail/audit-event';
import type { TrailWriter } from 'src/audit/trail/trail-writer';
import { FixedClock } from 'src/common/clock/clock';
import { ProblemException } from 'src/common/problem/problem';

const ORG = '0f0e4b8e-6a43-4d0f-9a57-3c1f0b2d9e11';
const A = '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed';
const B = '2c8e7ace-ccfe-4c3e-8c6e-bc9efcce5cfe';
const C = '3d7f8bdf-ddff-4d4f-9d7f-cdaf0ddf6d0f';

/** A writer that keeps the events handed in and lets the test settle each append. */
class FakeWriter {
  readonly events: AuditEventContent[] = [];
  readonly pending: { resolve: (seq: number) => void; reject: (err: Error) => void }[] = [];
  append(event: AuditEventContent, _db?: unknown, release?: () => void): Promise<number> {
    this.events.push(event);
    release?.();
    return new Promise<number>((resolve, reject) => this.pending.push({ resolve, reject }));
  }
}

const OPTIONS: AuditedOptions = {
  action: AuditAction.List,
  resource: 'patient',
  patientIds: (body: unknown) => (body as { ids: string[] }).ids,
  recordsEarly: true,
};

function request(): AuditableRequest {
  return {
    params: { organizationId: ORG },
    query: {},
    headers: { 'user-agent': 'spec' },
    method: 'GET',
    url: `/api/v1/patients/${ORG}/profiles`,
    routeOptions: { url: '/api/v1/patients/:organizationId/profiles' },
    id: 'req-1',
    ip: '127.0.0.1',
    auth: { organizationId: ORG, role: 'admin', actor: { type: 'user', id: C } },
  } as unknown as AuditableRequest;
}

const reply = { statusCode: 200 } as FastifyReply;
const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('RequestAuditRecorder, early records', () => {
  let writer: FakeWriter;
  let recorder: RequestAuditRecorder;
  beforeEach(() => {
    writer = new FakeWriter();
    recorder = new RequestAuditRecorder(writer as unknown as TrailWriter, new FixedClock(new Date('2026-12-07T08:00:00Z')));
  });

  it('writes the success event when the route names its patients, and waits for it before the answer leaves', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A, B]);
    // Handed to the writer at once, before the handler has produced its body.
    expect(writer.events).toHaveLength(1);
    expect(writer.events[0]).toMatchObject({ action: AuditAction.List, outcome: 'success', statusCode: 200, patientIds: [A, B] });
    let done = false;
    const success = recorder.recordSuccess(req, reply, OPTIONS, { ids: [B, A] }).then(() => (done = true));
    await settled();
    expect(done).toBe(false); // the early event is not committed yet: the answer must wait
    writer.pending[0].resolve(1);
    await success;
    // The body's patients were all named: no second event.
    expect(writer.events).toHaveLength(1);
    expect(auditState(req).recorded).toBe(1);
  });

  it('records in a second event only the patients of the body that the early event did not name', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A]);
    writer.pending[0].resolve(1);
    const success = recorder.recordSuccess(req, reply, OPTIONS, { ids: [A, B] });
    await settled();
    expect(writer.events).toHaveLength(2);
    expect(writer.events[1].patientIds).toEqual([B]);
    writer.pending[1].resolve(2);
    await success;
    expect(auditState(req).recorded).toBe(2);
  });

  it('counts a body id written in other case as named (the event stores ids canonical)', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A]);
    writer.pending[0].resolve(1);
    await recorder.recordSuccess(req, reply, OPTIONS, { ids: [A.toUpperCase()] });
    expect(writer.events).toHaveLength(1);
  });

  it('records only the first early call of a request', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A]);
    recorder.recordEarly(req, reply, OPTIONS, [B]);
    expect(writer.events).toHaveLength(1);
    writer.pending[0].resolve(1);
    await settled();
  });

  it('answers 503 when the early event cannot be written, and the finished request needs no other event', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A]);
    writer.pending[0].reject(new Error('trail down'));
    await expect(recorder.recordSuccess(req, reply, OPTIONS, { ids: [A] })).rejects.toBeInstanceOf(ProblemException);
    expect(writer.events).toHaveLength(1);
    expect(recorder.finishedNeedsEvent(req, 503)).toBe(false);
  });

  it('still records the failure of a handler that failed after naming its patients', async () => {
    const req = request();
    recorder.recordEarly(req, reply, OPTIONS, [A]);
    writer.pending[0].resolve(1);
    await settled();
    // The handler threw after the early event: the onSend hook records the 500 as well.
    expect(recorder.finishedNeedsEvent(req, 500)).toBe(true);
    const finished = recorder.recordFinished(req, 500, OPTIONS, '{}');
    await settled();
    expect(writer.events[1]).toMatchObject({ action: AuditAction.List, outcome: 'failure', statusCode: 500 });
    writer.pending[1].resolve(2);
    await expect(finished).resolves.toBe(true);
  });

  it('leaves no unhandled rejection when the early event fails and the handler fails before waiting for it', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const req = request();
      recorder.recordEarly(req, reply, OPTIONS, [A]);
      writer.pending[0].reject(new Error('trail down'));
      await settled();
      await settled();
      expect(unhandled).not.toHaveBeenCalled();
      expect(auditState(req).failed).toBe(true);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
