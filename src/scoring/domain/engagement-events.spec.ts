import { ENGAGEMENT_EVENTS, engagementEventsSql } from 'src/scoring/domain/engagement-events';
import { DEFAULT_SCORING_SETTINGS, scoringSettings } from 'src/scoring/domain/scoring-settings';

describe('ENGAGEMENT_EVENTS', () => {
  it('lists the five kinds of engagement once each', () => {
    expect(ENGAGEMENT_EVENTS.map((e) => e.kind)).toEqual(['attended_appointment', 'inbound_contact', 'outreach_reply', 'survey_response', 'payment']);
  });

  it('dates replies by the reply, not by the outreach', () => {
    expect(ENGAGEMENT_EVENTS.find((e) => e.kind === 'outreach_reply')).toMatchObject({ timestampColumn: 'responded_at', table: 'communications' });
  });

  it('builds one UNION ALL branch per definition, bounded by :now, with the extra predicate', () => {
    const sql = engagementEventsSql(':now', 'organization_id = :org');
    expect(sql.split('UNION ALL')).toHaveLength(5);
    expect(sql).toContain("FROM appointments WHERE (status = 'completed') AND starts_at <= :now AND (organization_id = :org)");
    expect(sql).toContain("FROM payments WHERE (kind = 'payment' AND status = 'paid') AND occurred_at <= :now");
  });
});

describe('scoringSettings', () => {
  it('merges finite overrides over the defaults and ignores the rest', () => {
    const s = scoringSettings({ activeWithinDays: 21, atRiskAfterDays: NaN });
    expect(s.activeWithinDays).toBe(21);
    expect(s.atRiskAfterDays).toBe(DEFAULT_SCORING_SETTINGS.atRiskAfterDays);
    expect(scoringSettings()).toEqual(DEFAULT_SCORING_SETTINGS);
  });

  it('defaults are frozen', () => {
    expect(Object.isFrozen(DEFAULT_SCORING_SETTINGS)).toBe(true);
  });
});
