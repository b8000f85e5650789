import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system, ms) a process of this machine has used so far, from /proc/<pid>/stat (fields 14 and 15,
 * in clock ticks of 1/100 s); NaN when there is no such process here (it ended, or the server runs elsewhere). The
 * benches' load-robust figure: wall-clock times on a shared 2-core machine drift with everything else running.
 */
export function processCpuMs(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (ms, to the nanosecond) of a process's live threads, from /proc/<pid>/task/<tid>/schedstat (its first
 * field, the time the scheduler ran the thread): fine enough to read around each request, where /proc/<pid>/stat
 * counts in 10 ms ticks. Threads that ended are missing (Node's are long-lived); NaN when there is no such process.
 */
export function processThreadsCpuMs(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** The machine's busy CPU time (ms, all cores: user, system and interrupts; not idle, I/O wait or steal) so far, from /proc/stat. */
export function machineBusyCpuMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n')[0];
    const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) * 10;
  } catch {
    return Number.NaN;
  }
}
