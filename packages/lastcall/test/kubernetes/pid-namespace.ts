/**
 * What a PID namespace holds, read from this (the root) namespace's /proc: every process names
 * its PID namespace in `/proc/<pid>/ns/pid` (`pid:[<inode>]`), and its state and parent in
 * `/proc/<pid>/stat`.
 */
import * as fs from 'node:fs';

/** One process, as the root namespace sees it. */
export interface ProcessEntry {
  /** Its pid in the root namespace. */
  readonly pid: number;
  readonly ppid: number;
  /** `/proc/<pid>/stat`'s state: `R`, `S`, `Z` (a zombie: exited, not yet reaped), ... */
  readonly state: string;
  readonly command: string;
}

/** `pid:[<inode>]` of `pid`'s PID namespace, or undefined when the process is gone. */
export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${String(pid)}/ns/pid`);
  } catch {
    return undefined;
  }
}

function readEntry(pid: number): ProcessEntry | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split at the last ')'.
  const close = stat.lastIndexOf(')');
  const [state = '?', ppid = '0'] = stat.slice(close + 2).split(' ');
  return { pid, ppid: Number(ppid), state, command: stat.slice(stat.indexOf('(') + 1, close) };
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Every process whose PID namespace is `namespace`, zombies included. */
export function processesInPidNamespace(namespace: string): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const pid of allPids()) {
    if (pidNamespaceOf(pid) !== namespace) continue;
    const entry = readEntry(pid);
    if (entry !== undefined) found.push(entry);
  }
  return found;
}

/** The children of `pid`. */
export function childrenOf(pid: number): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const candidate of allPids()) {
    const entry = readEntry(candidate);
    if (entry?.ppid === pid) found.push(entry);
  }
  return found;
}
