import { Permission, ROLE_PERMISSIONS } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

/** The table, transcribed column by column: the code must match it exactly. */
const TABLE: Record<Permission, Role[]> = {
  [Permission.PatientsRead]: ['owner', 'admin', 'clinician', 'front_desk', 'marketing'],
  [Permission.PatientsReadMedical]: ['owner', 'admin', 'clinician'],
  [Permission.JourneyRead]: ['owner', 'admin', 'clinician', 'front_desk', 'marketing'],
  [Permission.OpportunitiesRead]: ['owner', 'admin', 'front_desk', 'marketing'],
  [Permission.AnalyticsRead]: ['owner', 'admin', 'clinician', 'marketing', 'analyst'],
  [Permission.DataWrite]: ['owner', 'admin'],
  [Permission.AuditRead]: ['owner', 'admin'],
  [Permission.PrivacyManage]: ['owner', 'admin'],
  [Permission.OrgManage]: ['owner'],
};

describe('ROLE_PERMISSIONS', () => {
  it.each(Object.entries(TABLE))('grants %s to exactly %j', (permission, roles) => {
    const holders = Object.values(Role).filter((r) => ROLE_PERMISSIONS[r].includes(permission as Permission));
    expect(holders.sort()).toEqual([...roles].sort());
  });

  it('lists no permission twice and gives the analyst aggregates only', () => {
    for (const role of Object.values(Role)) expect(new Set(ROLE_PERMISSIONS[role]).size).toBe(ROLE_PERMISSIONS[role].length);
    expect(ROLE_PERMISSIONS.analyst).toEqual([Permission.AnalyticsRead]);
  });
});
