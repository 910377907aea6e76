/** CPU time and memory of other processes, read the same way for every side: from /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (100 on Linux, asked once). */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface StatFields {
  readonly pgrp: number;
  readonly cpuSeconds: number;
  /** Page faults served without I/O: pages the process touched again after giving them back. */
  readonly minorFaults: number;
}

function readStat(pid: number | string): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses; fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) pgrp(2) ... minflt(7) ... utime(11) stime(12)
  return { pgrp: Number(fields[2]), cpuSeconds: (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND, minorFaults: Number(fields[7] ?? 0) };
}

/** Minor page faults of the process so far (issue #18: the bridge's CPU followed them). */
export function minorFaultsOf(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.minorFaults;
}

export function groupMinorFaultsOf(pgid: number): number {
  return groupSumOf(pgid, 'minorFaults');
}

/** User + system CPU seconds the process has used so far (its own, not its children's). */
export function cpuSecondsOf(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.cpuSeconds;
}

/** Summed over every live process in a process group (websockify forks per connection). */
function groupSumOf(pgid: number, field: 'cpuSeconds' | 'minorFaults'): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat?.pgrp === pgid) total += stat[field];
  }
  return total;
}

export function groupCpuSecondsOf(pgid: number): number {
  return groupSumOf(pgid, 'cpuSeconds');
}

export function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
}
