import { partitionIndexName, partitionTables, type PartitionedTable } from 'src/database/partition-tables';

const ORG = '5cdcc37f-25bd-41a9-bd3b-3a4f5ff3246e';
const METRICS: PartitionedTable = { table: 'patient_metrics', prefix: 'patient_metrics', short: 'pm' };
const OPPORTUNITIES: PartitionedTable = { table: 'reengagement_opportunities', prefix: 'reengagement_opps', short: 'ro' };

describe('partition tables and their index names', () => {
  it('names the live partition, the fresh table and the shared flag from the organization id', () => {
    expect(partitionTables(METRICS, ORG)).toEqual({
      organizationId: ORG,
      live: 'patient_metrics_5cdcc37f25bd41a9bd3b3a4f5ff3246e',
      fresh: 'patient_metrics_5cdcc37f25bd41a9bd3b3a4f5ff3246e_rebuild',
      shared: false,
    });
    expect(partitionTables(OPPORTUNITIES, ORG, true)).toMatchObject({
      live: 'reengagement_opps_5cdcc37f25bd41a9bd3b3a4f5ff3246e',
      shared: true,
    });
  });

  it('names an index after its parent: pkey for the primary key, the suffix after idx_<table>_, r while fresh, at most 63 characters', () => {
    const m = partitionTables(METRICS, ORG);
    expect(partitionIndexName(METRICS, m, 'pk_patient_metrics', false)).toBe('pm_5cdcc37f25bd41a9bd3b3a4f5ff3246e_pkey');
    expect(partitionIndexName(METRICS, m, 'idx_patient_metrics_status_ltv', true)).toBe('pmr_5cdcc37f25bd41a9bd3b3a4f5ff3246e_status_ltv');
    const o = partitionTables(OPPORTUNITIES, ORG);
    expect(partitionIndexName(OPPORTUNITIES, o, 'pk_reengagement_opportunities', true)).toBe('ror_5cdcc37f25bd41a9bd3b3a4f5ff3246e_pkey');
    const long = partitionIndexName(OPPORTUNITIES, o, 'idx_reengagement_opportunities_priority_expected_return', false);
    expect(long).toBe('ro_5cdcc37f25bd41a9bd3b3a4f5ff3246e_priority_expected_return'.slice(0, 63));
    expect(long.length).toBeLessThanOrEqual(63);
    // Only a leading idx_<table>_ is taken off.
    expect(partitionIndexName(METRICS, m, 'other_idx_patient_metrics_x', false)).toBe(
      'pm_5cdcc37f25bd41a9bd3b3a4f5ff3246e_other_idx_patient_metrics_x'.slice(0, 63),
    );
  });
});
