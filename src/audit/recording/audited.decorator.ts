import { AuditAction } from 'src/audit/trail/audit-action';

/** @nestjs/platform-fastify's key for a handler's Fastify route config (what its `@RouteConfig()` sets). */
const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/** Metadata key (Reflector) and Fastify route-config key of a route's audit options. */
export const AUDITED = 'patient-journey:audited';

export interface AuditedOptions {
  /** What a successful call does with patient data. Denials (401/403/404) are recorded as `access_denied`. */
  action: AuditAction;
  /** The kind of record the route serves: `patient`, `patient_list`, `journey`, `risk_summary`... */
  resource: string;
  /**
   * The ids of every patient whose data the response body carries (for a list: every patient on the page).
   * Called with the handler's result before it is serialized. Declared as a method so that each route can pass a
   * one-line arrow over its own response type, e.g. `(b: ProfilesResponse) => b.patients.map((p) => p.id)`.
   */
  patientIds?(responseBody: unknown): string[];
  /**
   * The route parameter that names one patient (default `patientId`). Its value is recorded with every outcome,
   * denials and 404s included.
   */
  patientIdParam?: string;
  /**
   * The route records its own events inside the transaction that changes the data (`RequestAudit.record`), so
   * the interceptor writes nothing on success. Denied and failed calls are still recorded for it.
   */
  writesOwnAudit?: boolean;
  /**
   * The handler names the patients of its answer as soon as it knows them (`@EarlyAudit()`), before it builds the
   * answer: the success event is written meanwhile (for a list page, while its contacts are decrypted and its rows
   * mapped) instead of after. The interceptor still waits for that event before the response leaves, and records in
   * a second event any patient of the body the handler did not name. A handler that fails after naming them is
   * recorded as failed too (the onSend hook), so the trail then holds both events.
   */
  recordsEarly?: boolean;
}

/**
 * The audit options of a route that reads, exports or changes patient data, as `@Authorized(permission, { audit })`
 * applies them (routes declare them there, never with this function alone). Metadata only: the global
 * AuditOnSuccessInterceptor writes the event before the response leaves (cache hits included) and fails the request
 * with 503 if it cannot; a Fastify onSend hook records the calls that never reach the handler (401, 403 from the
 * guards, 404, 400).
 *
 * The options are stored twice: as Nest metadata (read by the interceptor through the Reflector) and merged into
 * the route's Fastify config (read by the hook, which runs outside Nest's context). A `@RouteConfig()` from
 * @nestjs/platform-fastify on the same handler must be placed BELOW `@Authorized` (applied first) or it replaces it.
 */
export function auditRoute(options: AuditedOptions): MethodDecorator {
  const frozen: AuditedOptions = Object.freeze({ ...options });
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    Reflect.defineMetadata(AUDITED, frozen, handler);
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined) ?? {};
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [AUDITED]: frozen }, handler);
    return descriptor;
  };
}

/** The audit options of a route handler, if it carries `@Audited`. */
export function auditedOptionsOf(handler: object): AuditedOptions | undefined {
  return Reflect.getMetadata(AUDITED, handler) as AuditedOptions | undefined;
}
