/**
 * The organization parameter (`$1`) of a probe per key or per patient (a LATERAL subquery run once per row of an
 * `unnest`), as a value the planner sees only when the statement runs (an InitPlan), for `organization_id =
 * ${UNSEEN_ORGANIZATION}`, and of a read of chosen patients' records. Used by the ingestion's and the FHIR import's
 * lookups by key, the model fit's visit histories and the features query for chosen patients (the rescore after an
 * ingestion or an import: planned for one row in every table, its aggregates nested under the patients, 47-52 s per
 * 1,000 patients of a new clinic beside a million-patient one) and the engagement patch's clearing of empty steps
 * by day (130-170 ms a patch after a large clinic's first build); a statement that reads the organization's rows once
 * keeps `$1`, whose estimate suits it, and so does a partitioned table (a constant prunes its partitions at planning).
 *
 * Given `$1` itself, the planner estimates the organization's rows from the table's statistics; for a clinic they do
 * not know yet (rows written since the last ANALYZE: a second clinic's first import, a new clinic's ingestion where
 * autovacuum has not caught up) that estimate is one row, so every index that starts with `organization_id` looks as
 * good as the right one, and it took the smallest one and read the clinic's rows once per key: a second clinic's FHIR
 * import ran at 265-443 resources/s against 6,500-9,000 into an empty database, and the model fit of the rescore after
 * it read a clinic's visit histories in 13.1 s instead of 0.1 (docs/fhir.md, "A second clinic's import"). Not given
 * the value, it estimates an average organization's rows (the table's rows over the column's distinct values), and
 * the index that leads to the key is the cheapest probe. The row-level security policy compares the same column with
 * an InitPlan already; the statement's own filter stays as the tenant's second guard.
 */
export const UNSEEN_ORGANIZATION = '(SELECT $1::uuid)';
