/**
 * The organization parameter (`$1`) of a lookup by key, as a value the planner sees only when the statement runs (an
 * InitPlan), for `organization_id = ${UNSEEN_ORGANIZATION}`.
 *
 * Given `$1` itself, the planner estimates the organization's rows from the table's statistics; for a clinic they do
 * not know yet (rows written since the last ANALYZE: a second clinic's first import, a new clinic's ingestion where
 * autovacuum has not caught up) that estimate is one row, so every index that starts with `organization_id` looks as
 * good as the unique key, and it took the smallest one and filtered the clinic's rows once per key: a second clinic's
 * FHIR import ran at 265-443 resources/s against 6,500-9,000 into an empty database (docs/fhir.md, "A second clinic's
 * import"). Not given the value, it estimates the average organization's share (1 / the column's distinct values),
 * which is never one row of a table the clinic is writing, and the unique key is the cheapest probe. The row-level
 * security policy compares the same column with an InitPlan already; the statement's own filter stays as the
 * tenant's second guard.
 */
export const UNSEEN_ORGANIZATION = '(SELECT $1::uuid)';
