import { CLINIC_CATALOGS, type ClinicKind, DEFAULT_CLINIC_KIND } from 'src/demo-data/clinic-kinds';
import type { CopyTable } from 'src/demo-data/copy-table';
import { type HistoryContext, writePatient } from 'src/demo-data/patient-history';
import { buildPools, type SeedPools } from 'src/demo-data/seed-catalog';
import { SeedKeys } from 'src/demo-data/seed-keys';
import { SeedRandom } from 'src/demo-data/seed-random';
import { BLOCK_ID_BITS, clinicTables, SeedTable, tablesInLoadOrder } from 'src/demo-data/seed-tables';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';

/**
 * Patients per generation block. A clinic is generated block by block, each block from its own random stream
 * (`SeedRandom.stream(seed, block)`) and with its own range of row ids, so blocks can be generated in any order, on
 * any thread, and the clinic is the same for a seed whatever the number of generator threads and the COPY chunk size.
 */
export const SEED_BLOCK_PATIENTS = 1000;

/** What a thread needs to generate any block of a clinic (plain data: it is posted to the generator threads). */
export interface SeedBlockSpec {
  organizationId: string;
  kind?: ClinicKind;
  /** The clinic's draws come from this seed. */
  seed: number;
  /** The name and place pools' seed (buildPools; `npm run seed -- --orgs` draws them once for the run). */
  poolsSeed: number;
  /** Patients in the clinic. */
  patients: number;
  nowMs: number;
  /** clinicIdPrefixes(): this run's id prefixes, the same on every thread. */
  idPrefixes: readonly string[];
  /** The organization's key (unwrapped) and its version: each patient's data key is wrapped by it. */
  kek: Uint8Array;
  kekVersion: number;
}

/** One table's rows of a block, in COPY text format. */
export interface GeneratedTable {
  table: string;
  columns: readonly string[];
  data: Uint8Array;
  count: number;
  /** Offset of the external id's nine digits from each row's start, for tables renumbered in clinic order; else null. */
  externalDigitsAt: number | null;
}

/** One generated block: its tables in load order (parents first; the patients' keys right after the patients). */
export interface GeneratedBlock {
  block: number;
  tables: GeneratedTable[];
}

/** Number of blocks of a clinic of `patients` patients. */
export const blockCount = (patients: number): number => Math.ceil(patients / SEED_BLOCK_PATIENTS);

/** Generates blocks of one clinic (in the calling thread: the generator threads each have one). */
export class BlockGenerator {
  private readonly keys: SeedKeys;
  private readonly pools: SeedPools;

  constructor(
    private readonly spec: SeedBlockSpec,
    master: PhiCipherCore,
    pools?: SeedPools,
  ) {
    this.keys = SeedKeys.of(master, spec.organizationId, Buffer.from(spec.kek), spec.kekVersion);
    this.pools = pools ?? buildPools(spec.poolsSeed);
  }

  generate(block: number): GeneratedBlock {
    const first = block * SEED_BLOCK_PATIENTS;
    const end = Math.min(this.spec.patients, first + SEED_BLOCK_PATIENTS);
    const tables = clinicTables(this.spec.organizationId, this.spec.idPrefixes, block, first);
    const keys = this.keys.fork();
    const ctx: HistoryContext = {
      rng: SeedRandom.stream(this.spec.seed, block),
      pools: this.pools,
      keys,
      tables,
      organizationId: this.spec.organizationId,
      nowMs: this.spec.nowMs,
      catalog: CLINIC_CATALOGS[this.spec.kind ?? DEFAULT_CLINIC_KIND],
    };
    for (let i = first; i < end; i++) writePatient(ctx, i);
    const ordered: CopyTable[] = tablesInLoadOrder(tables);
    ordered.splice(1, 0, keys.table);
    return {
      block,
      tables: ordered.map((t) => {
        if (t.count >= 2 ** BLOCK_ID_BITS) throw new Error(`seed block ${block}: ${t.count} rows of ${t.table}, more than a block's id range`);
        return {
          table: t.table,
          columns: t.columns,
          data: t.copyOut(),
          count: t.count,
          externalDigitsAt: t instanceof SeedTable && t !== tables.patients ? t.externalDigitsAt : null,
        };
      }),
    };
  }
}

const ZERO = 48;
const NEWLINE = 10;

/**
 * Numbers the external ids of the tables other than the patients in clinic order (`A000000001`, ... as if one
 * thread had written every block in turn): each block's rows are numbered from 1 by their generator; blocks pass
 * here in order, and each row's nine digits are overwritten with the rows of its table before it plus its number.
 * The ids bound into the encrypted values (their additional data) are not touched: only the external ids.
 */
export class ExternalIdNumbering {
  private readonly before = new Map<string, number>();
  readonly rows: Record<string, number> = {};

  apply(block: GeneratedBlock): void {
    for (const t of block.tables) {
      const offset = this.before.get(t.table) ?? 0;
      this.before.set(t.table, offset + t.count);
      this.rows[t.table] = offset + t.count;
      if (t.externalDigitsAt === null || offset === 0) continue;
      if (offset + t.count >= 1e9) throw new Error(`more than 999,999,999 rows of ${t.table}`);
      const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      let start = 0;
      for (let n = offset + 1; start < data.length; n++) {
        let at = start + t.externalDigitsAt + 8;
        for (let v = n, k = 0; k < 9; k++, v = Math.floor(v / 10)) data[at--] = ZERO + (v % 10);
        const end = data.indexOf(NEWLINE, start + t.externalDigitsAt + 9);
        if (end < 0) break;
        start = end + 1;
      }
    }
  }
}
