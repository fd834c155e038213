/**
 * A worker leads its own process group, so that the processes it starts go with it: the master
 * signals the worker's whole group when it kills a worker and after a worker has exited, and a
 * worker whose master died (SIGKILL) takes the rest of its group along as it exits.
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Sends `signal` to every process of the group `pgid` leads. False when there is none (or it is
 * not ours to signal); never throws.
 */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined || !Number.isSafeInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The process group of `pid` (Linux, from /proc), or undefined. */
export function processGroupOf(pid: number | 'self'): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${String(pid)}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses; the last ")" ends it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  return Number.isSafeInteger(pgrp) ? pgrp : undefined;
}

/** True when this process leads its own process group. */
export function leadsOwnGroup(): boolean {
  return processGroupOf('self') === process.pid;
}

/**
 * SIGKILLs every other process of the group this process leads (Linux: found through /proc),
 * and returns how many. Does nothing when this process does not lead its group: that group is
 * the master's. Synchronous, for an `exit` listener; never throws.
 */
export function killRestOfOwnGroup(): number {
  if (!leadsOwnGroup()) return 0;
  let killed = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    if (processGroupOf(pid) !== process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Gone already.
    }
  }
  return killed;
}
