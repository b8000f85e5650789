/**
 * The audit benchmarks' correctness assertions on every `npm test` (they used to run only when someone ran the
 * benchmarks): every request answered 2xx with auditing on and off, every audited request recorded, nothing recorded
 * without auditing, the chain valid after 50 concurrent writers. At a size that takes seconds (small-bench-sizes.ts).
 */
import 'test/audit/small-bench-sizes';
import 'test/audit/audit-throughput.bench';
import 'test/audit/audit-writer.bench';
