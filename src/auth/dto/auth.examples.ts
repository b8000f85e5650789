import type { ApiKeyListResponse, CreatedApiKeyResponse } from 'src/auth/dto/api-key.response';
import type { MeResponse } from 'src/auth/dto/me.response';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

// Examples of the documented answers (openapi.json). Invented people and keys.
export const ME_EXAMPLE: MeResponse = {
  user: { id: '9c4b2e71-5a3d-4f8e-b6c0-2d1e7f3a8b45', email: 'reception@example.com', name: 'Front Desk' },
  memberships: [
    {
      organization_id: '2b6f0d4e-8c1a-4e7b-9d3f-5a0c2e8b6d14',
      organization_slug: 'demo',
      organization_name: 'Demo Physiotherapy Clinic',
      role: Role.FrontDesk,
      permissions: [Permission.PatientsRead, Permission.JourneyRead, Permission.OpportunitiesRead],
    },
  ],
};

const KEY = {
  id: '6e2d9a0b-4c7f-4b1e-a3d5-8f0c1b2e7a96',
  name: 'EHR nightly sync',
  prefix: 'pjk_3Fq9x2Lm',
  permissions: [Permission.DataWrite],
  created_at: '2026-11-01T08:00:00.000Z',
  expires_at: null,
  last_used_at: '2026-11-24T02:00:05.000Z',
  revoked_at: null,
  created_by: '9c4b2e71-5a3d-4f8e-b6c0-2d1e7f3a8b45',
};

export const API_KEYS_EXAMPLE: ApiKeyListResponse = { items: [KEY] };

export const CREATED_API_KEY_EXAMPLE: CreatedApiKeyResponse = {
  ...KEY,
  last_used_at: null,
  created_at: '2026-11-24T12:00:00.000Z',
  key: 'pjk_3Fq9x2LmZ8rT4vN6bW0cY1dK7sH5jQa9Xe2Rt0Ub',
};
