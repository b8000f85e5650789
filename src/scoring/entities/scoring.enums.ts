export const PatientStatus = {
  Active: 'active',
  Dormant: 'dormant',
  AtRisk: 'at_risk',
} as const;
export type PatientStatus = (typeof PatientStatus)[keyof typeof PatientStatus];

export const RiskLevel = {
  Low: 'low',
  Medium: 'medium',
  High: 'high',
} as const;
export type RiskLevel = (typeof RiskLevel)[keyof typeof RiskLevel];

export const RiskTrend = {
  Improving: 'improving',
  Stable: 'stable',
  Declining: 'declining',
} as const;
export type RiskTrend = (typeof RiskTrend)[keyof typeof RiskTrend];

/** Customer-lifetime-value models whose fitted parameters are stored in `model_fits`. */
export const ModelKind = {
  BgNbd: 'bgnbd',
  GammaGamma: 'gamma_gamma',
} as const;
export type ModelKind = (typeof ModelKind)[keyof typeof ModelKind];
