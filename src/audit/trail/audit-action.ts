/** What a request did with patient data, as recorded in `audit_events.action`. */
export enum AuditAction {
  Read = 'read',
  List = 'list',
  Search = 'search',
  Export = 'export',
  Create = 'create',
  Update = 'update',
  Delete = 'delete',
  /** A 401, 403 or 404 answered on a patient route: recorded whatever action the route declares. */
  AccessDenied = 'access_denied',
}

export const AUDIT_ACTIONS: readonly AuditAction[] = Object.values(AuditAction);
