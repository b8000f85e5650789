import { Role } from 'src/organizations/organizations.enums';

/** What a caller may do. Every route declares exactly one of these (or is public / authentication-only). */
export enum Permission {
  PatientsRead = 'patients:read',
  PatientsReadMedical = 'patients:read_medical',
  JourneyRead = 'journey:read',
  OpportunitiesRead = 'opportunities:read',
  AnalyticsRead = 'analytics:read',
  DataWrite = 'data:write',
  AuditRead = 'audit:read',
  PrivacyManage = 'privacy:manage',
  OrgManage = 'org:manage',
}

export const ALL_PERMISSIONS: readonly Permission[] = Object.values(Permission);

/** The one role → permissions table (issue 3). */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: ALL_PERMISSIONS,
  admin: [
    Permission.PatientsRead,
    Permission.PatientsReadMedical,
    Permission.JourneyRead,
    Permission.OpportunitiesRead,
    Permission.AnalyticsRead,
    Permission.DataWrite,
    Permission.AuditRead,
    Permission.PrivacyManage,
  ],
  clinician: [Permission.PatientsRead, Permission.PatientsReadMedical, Permission.JourneyRead, Permission.AnalyticsRead],
  front_desk: [Permission.PatientsRead, Permission.JourneyRead, Permission.OpportunitiesRead],
  marketing: [Permission.PatientsRead, Permission.JourneyRead, Permission.OpportunitiesRead, Permission.AnalyticsRead],
  analyst: [Permission.AnalyticsRead],
};

export function isPermission(value: string): value is Permission {
  return (ALL_PERMISSIONS as readonly string[]).includes(value);
}
