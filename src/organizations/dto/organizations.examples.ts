import type { MemberListResponse, MemberResponse } from 'src/organizations/dto/member.response';
import type { OrganizationSettingsResponse } from 'src/organizations/dto/organization-settings.response';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

// Examples of the documented answers (openapi.json). Invented people.
export const MEMBER_EXAMPLE: MemberResponse = {
  user_id: '9c4b2e71-5a3d-4f8e-b6c0-2d1e7f3a8b45',
  email: 'reception@example.com',
  name: 'Front Desk',
  role: Role.FrontDesk,
  permissions: [Permission.PatientsRead, Permission.JourneyRead, Permission.OpportunitiesRead],
  member_since: '2026-02-01T09:00:00.000Z',
};

export const MEMBERS_EXAMPLE: MemberListResponse = {
  items: [
    {
      user_id: '4a8e1c2d-6b3f-4d9a-8e7c-0f5b1a2d3c64',
      email: 'owner@example.com',
      name: 'Clinic Owner',
      role: Role.Owner,
      permissions: Object.values(Permission),
      member_since: '2025-06-01T09:00:00.000Z',
    },
    MEMBER_EXAMPLE,
  ],
};

export const ORGANIZATION_SETTINGS_EXAMPLE: OrganizationSettingsResponse = {
  scoring: { activeDays: 30, dormantDays: 120 },
  effective_scoring: { activeWithinDays: 30, atRiskAfterDays: 120, decayHalfLifeDays: 180 },
};
