/**
 * A worker thread of the NDJSON import's prepare pool (fhir-prepare-pool.ts): parses, validates and maps batches of
 * lines off the main thread. Never touches the database, the keys or the logs: it gets lines and answers plain data.
 */
import { parentPort } from 'node:worker_threads';
import { issue } from 'src/fhir-import/domain/operation-outcome';
import { ImportPass, LineResult, prepareLine } from 'src/fhir-import/fhir-prepare';

interface Job {
  id: number;
  lines: string[];
  pass: ImportPass;
  source: string;
}

parentPort?.on('message', (job: Job) => {
  const results: LineResult[] = job.lines.map((line) => {
    try {
      return prepareLine(line, job.pass, job.source);
    } catch {
      return {
        resourceType: 'unknown',
        id: null,
        mapped: { kind: 'invalid', issues: [issue('exception', 'The resource could not be checked')] },
      };
    }
  });
  parentPort?.postMessage({ id: job.id, results });
});
