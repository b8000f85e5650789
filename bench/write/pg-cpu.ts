/**
 * CPU time of the PostgreSQL backends serving one database, read from /proc (the server must run on this machine;
 * elsewhere the figures are absent). A backend's command line names its database (`postgres: user db host(port) ...`);
 * parallel workers name their leader (`parallel worker for PID n`). The sampler reads every such process's
 * utime + stime a few times a second and sums, per process, the CPU spent since the start (all of it for a process
 * that began after): a backend that exits between two samples loses at most one interval's CPU, and one that lives
 * less than an interval is missed (the jobs measured keep their connections open).
 * Background processes (checkpointer, WAL writer, autovacuum) are not counted: they are the server's, not a job's.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function stat(pid: string): { cpuTicks: number; cmdline: string } | null {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
    if (!cmdline.startsWith('postgres: ')) return null;
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) of /proc/<pid>/stat, counted from the state (field 3) here.
    return { cpuTicks: Number(fields[11]) + Number(fields[12]), cmdline };
  } catch {
    return null;
  }
}

export class PgCpuSampler {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  readonly available: boolean;

  constructor(private readonly database: string) {
    this.available = (() => {
      try {
        return readdirSync('/proc').some((p) => /^\d+$/.test(p) && stat(p) !== null);
      } catch {
        return false;
      }
    })();
  }

  private sample(): void {
    const leaders = new Set<string>();
    const workers: { pid: string; leader: string; ticks: number }[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const s = stat(pid);
      if (!s) continue;
      const worker = /parallel worker for PID (\d+)/.exec(s.cmdline);
      if (worker) workers.push({ pid, leader: worker[1], ticks: s.cpuTicks });
      else if (s.cmdline.split(' ').includes(this.database)) {
        leaders.add(pid);
        this.record(pid, s.cpuTicks);
      }
    }
    for (const w of workers) if (leaders.has(w.leader)) this.record(w.pid, w.ticks);
  }

  private baseline = true;

  private record(pid: string, ticks: number): void {
    // A process first seen after the start began during the window: all its CPU counts.
    if (!this.first.has(pid)) this.first.set(pid, this.baseline ? ticks : 0);
    this.last.set(pid, ticks);
  }

  /** Starts counting from now (processes already running count from their CPU at this instant). */
  start(intervalMs = 200): void {
    this.first.clear();
    this.last.clear();
    if (!this.available) return;
    this.baseline = true;
    this.sample();
    this.baseline = false;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** CPU seconds of the database's backends since `start`, or null where /proc shows none. */
  stop(): number | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.available) return null;
    this.sample();
    let ticks = 0;
    for (const [pid, last] of this.last) ticks += last - (this.first.get(pid) ?? last);
    return ticks / TICKS_PER_SECOND;
  }
}
