import { readFileSync } from 'node:fs';

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
