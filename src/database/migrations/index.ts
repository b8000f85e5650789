import { Initial1795566147294 } from 'src/database/migrations/1795566147294-Initial';
import { RuntimeRole1795566147295 } from 'src/database/migrations/1795566147295-RuntimeRole';
import { TenantRowLevelSecurity1795566200000 } from 'src/database/migrations/1795566200000-TenantRowLevelSecurity';
import { CompositePatientForeignKeys1795566300000 } from 'src/database/migrations/1795566300000-CompositePatientForeignKeys';
import { PatientMetricsFillfactor1795566400000 } from 'src/database/migrations/1795566400000-PatientMetricsFillfactor';
import { AuditTrail1795566500000 } from 'src/database/migrations/1795566500000-AuditTrail';
import { AuditAppendBatch1795566500001 } from 'src/database/migrations/1795566500001-AuditAppendBatch';
import { PatientMetricCounts1795566600000 } from 'src/database/migrations/1795566600000-PatientMetricCounts';
import { Opportunities1795566752783 } from 'src/database/migrations/1795566752783-Opportunities';
import { OpportunitiesRowLevelSecurity1795566760000 } from 'src/database/migrations/1795566760000-OpportunitiesRowLevelSecurity';
import { FirstVisitAndVisitIndex1795566770000 } from 'src/database/migrations/1795566770000-FirstVisitAndVisitIndex';
import { EngagementRollup1795566780000 } from 'src/database/migrations/1795566780000-EngagementRollup';
import { PatientMetricsHotFillfactor1795566790000 } from 'src/database/migrations/1795566790000-PatientMetricsHotFillfactor';
import { ModelFitAccepted1795566800000 } from 'src/database/migrations/1795566800000-ModelFitAccepted';
import { KeptPatientFeatures1795566805000 } from 'src/database/migrations/1795566805000-KeptPatientFeatures';
import { PatientMetricsPartitions1795566900000 } from 'src/database/migrations/1795566900000-PatientMetricsPartitions';
import { JobRuns1795567000000 } from 'src/database/migrations/1795567000000-JobRuns';
import { StoredFiles1795567050000 } from 'src/database/migrations/1795567050000-StoredFiles';
import { RiskHistoryByPatient1795567060000 } from 'src/database/migrations/1795567060000-RiskHistoryByPatient';
import { ConsentDecisions1795567200000 } from 'src/database/migrations/1795567200000-ConsentDecisions';
import { FhirResources1795567300000 } from 'src/database/migrations/1795567300000-FhirResources';
import { JobRunsDedupPerType1795567500000 } from 'src/database/migrations/1795567500000-JobRunsDedupPerType';
import { PhiKeys1795567610000 } from 'src/database/migrations/1795567610000-PhiKeys';
import { ErasureRetentionHolds1795567620000 } from 'src/database/migrations/1795567620000-ErasureRetentionHolds';
import { ConsentReviewsDue1795567650000 } from 'src/database/migrations/1795567650000-ConsentReviewsDue';
import { TenantPolicyOncePerStatement1795567660000 } from 'src/database/migrations/1795567660000-TenantPolicyOncePerStatement';
import { AuditArchivePeriod1795567710000 } from 'src/database/migrations/1795567710000-AuditArchivePeriod';
import { PatientContactCiphertext1795567720000 } from 'src/database/migrations/1795567720000-PatientContactCiphertext';
import { StoredFilesDeleteInBatches1795567740000 } from 'src/database/migrations/1795567740000-StoredFilesDeleteInBatches';
import { FhirEobTargetIndex1795567760000 } from 'src/database/migrations/1795567760000-FhirEobTargetIndex';
import { PatientIdentifiers1795567800000 } from 'src/database/migrations/1795567800000-PatientIdentifiers';
import { ModelFitsSettingsKey1795567850000 } from 'src/database/migrations/1795567850000-ModelFitsSettingsKey';
import { OpportunitiesHotFillfactor1795567950000 } from 'src/database/migrations/1795567950000-OpportunitiesHotFillfactor';
import { KeptFeaturesMovingPlans1795568100000 } from 'src/database/migrations/1795568100000-KeptFeaturesMovingPlans';
import { EngagementRollupHotFillfactor1795568200000 } from 'src/database/migrations/1795568200000-EngagementRollupHotFillfactor';
import { OpportunitiesPartitions1795568400000 } from 'src/database/migrations/1795568400000-OpportunitiesPartitions';
import { EngagementPatientDaysPartitions1795568500000 } from 'src/database/migrations/1795568500000-EngagementPatientDaysPartitions';
import { OrganizationUnseenTables1795568600000 } from 'src/database/migrations/1795568600000-OrganizationUnseenTables';
import { AuditAppendBatchGenericPlan1795568700000 } from 'src/database/migrations/1795568700000-AuditAppendBatchGenericPlan';
import { PatientMetricsSharedPartition1795567900000 } from 'src/database/migrations/1795567900000-PatientMetricsSharedPartition';

/**
 * Every migration, in order. A new migration is added here (explicit imports keep the list the same under
 * ts-jest, ts-node and the compiled build). Generate one with `npm run migration:generate -- <Name>`.
 */
export const MIGRATIONS: Function[] = [
  Initial1795566147294,
  RuntimeRole1795566147295,
  TenantRowLevelSecurity1795566200000,
  CompositePatientForeignKeys1795566300000,
  PatientMetricsFillfactor1795566400000,
  AuditTrail1795566500000,
  AuditAppendBatch1795566500001,
  PatientMetricCounts1795566600000,
  Opportunities1795566752783,
  OpportunitiesRowLevelSecurity1795566760000,
  FirstVisitAndVisitIndex1795566770000,
  EngagementRollup1795566780000,
  PatientMetricsHotFillfactor1795566790000,
  ModelFitAccepted1795566800000,
  KeptPatientFeatures1795566805000,
  PatientMetricsPartitions1795566900000,
  JobRuns1795567000000,
  StoredFiles1795567050000,
  RiskHistoryByPatient1795567060000,
  ConsentDecisions1795567200000,
  FhirResources1795567300000,
  JobRunsDedupPerType1795567500000,
  PhiKeys1795567610000,
  ErasureRetentionHolds1795567620000,
  ConsentReviewsDue1795567650000,
  TenantPolicyOncePerStatement1795567660000,
  AuditArchivePeriod1795567710000,
  PatientContactCiphertext1795567720000,
  StoredFilesDeleteInBatches1795567740000,
  FhirEobTargetIndex1795567760000,
  PatientIdentifiers1795567800000,
  ModelFitsSettingsKey1795567850000,
  OpportunitiesHotFillfactor1795567950000,
  PatientMetricsSharedPartition1795567900000,
  KeptFeaturesMovingPlans1795568100000,
  EngagementRollupHotFillfactor1795568200000,
  OpportunitiesPartitions1795568400000,
  EngagementPatientDaysPartitions1795568500000,
  OrganizationUnseenTables1795568600000,
  AuditAppendBatchGenericPlan1795568700000,
];
