/** Public API of the pure scoring engine: features in, scores out. No Nest, no TypeORM, no clock. */
export * from 'src/scoring/domain/bg-nbd';
export * from 'src/scoring/domain/engagement-events';
export * from 'src/scoring/domain/engagement-score';
export * from 'src/scoring/domain/fit-sample';
export * from 'src/scoring/domain/gamma-gamma';
export * from 'src/scoring/domain/lifetime-value';
export * from 'src/scoring/domain/nelder-mead';
export * from 'src/scoring/domain/patient-features';
export * from 'src/scoring/domain/patient-status';
export * from 'src/scoring/domain/risk-components';
export * from 'src/scoring/domain/risk-score';
export * from 'src/scoring/domain/risk-trend';
export * from 'src/scoring/domain/scoring-models';
export * from 'src/scoring/domain/scoring-settings';
export * from 'src/scoring/domain/special-functions';
export * from 'src/scoring/domain/success-probability';
export * from 'src/scoring/domain/visit-rhythm';
