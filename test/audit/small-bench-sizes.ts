/**
 * Sizes for running the audit benchmarks' correctness checks inside `npm test` (test/audit/audit-benches.e2e-spec.ts):
 * imported before the benchmarks, which read these variables when they load. The figures they print at this size
 * mean nothing; measure with the benchmarks themselves (README, "Benchmarks"). Values already set are kept.
 */
process.env.AUDIT_BENCH_SECONDS ??= '1';
process.env.AUDIT_BENCH_ROUNDS ??= '1';
process.env.AUDIT_BENCH_PATIENTS ??= '20';
process.env.AUDIT_BENCH_PER_WRITER ??= '4';
