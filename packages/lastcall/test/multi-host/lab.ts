/**
 * The multi-host lab: three network namespaces that exist only for one test process. `lb` holds a
 * Linux bridge and runs the balancer, the load client and the deploy driver; each host namespace
 * (`a`, `b`) is joined to the bridge by a veth pair and runs one `lastcall start`. One private /24
 * (10.232.<pid % 250>.0/24) is addressed only inside these namespaces, so it never meets the
 * machine's own routes, and two labs of two test processes never see each other even when their
 * /24 is the same. Needs root and iproute2.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Every namespace of a lab is named `lcmh-<pid>-<role>`, so a sweep can tell whose it is. */
const PREFIX = 'lcmh-';

/** One host of the lab. */
export interface LabHost {
  /** `a` or `b`: the server's name in the balancer's configuration too. */
  readonly name: string;
  /** Its network namespace. */
  readonly netns: string;
  /** Its address on the lab's bridge. */
  readonly address: string;
}

export interface Lab {
  /** The balancer's namespace, which holds the bridge. */
  readonly lbNetns: string;
  /** The balancer namespace's address on the bridge. */
  readonly lbAddress: string;
  readonly hosts: readonly LabHost[];
  host(name: string): LabHost;
  /** SIGKILLs every process left in the lab's namespaces, then deletes them. Idempotent. */
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids of the processes running in `netns`. */
export function pidsIn(netns: string): number[] {
  try {
    return ip('netns', 'pids', netns)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function removeNetns(netns: string): void {
  for (const pid of pidsIn(netns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  try {
    // Deleting a namespace deletes the veth ends and the bridge in it.
    ip('netns', 'del', netns);
  } catch {
    // gone already
  }
}

/**
 * Deletes the namespaces of labs whose test process died without its afterAll (a killed jest),
 * with what still runs in them. A lab of a live process, another run's, is left alone.
 */
export function sweepStaleLabs(): void {
  let names: string[];
  try {
    names = fs.readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const netns of names) {
    const match = /^lcmh-(\d+)-/.exec(netns);
    if (match === null) continue;
    const owner = Number(match[1]);
    if (owner !== process.pid && !isAlive(owner)) removeNetns(netns);
  }
}

/** Makes the lab: the `lb` namespace with its bridge, and one namespace per host name. */
export function createLab(hostNames: readonly string[] = ['a', 'b']): Lab {
  sweepStaleLabs();
  const tag = `${PREFIX}${String(process.pid)}`;
  const subnet = `10.232.${String(process.pid % 250)}`;
  const lbNetns = `${tag}-lb`;
  const lbAddress = `${subnet}.1`;
  const hosts = hostNames.map((name, index) => ({
    name,
    netns: `${tag}-${name}`,
    address: `${subnet}.${String(index + 2)}`,
  }));
  const made: string[] = [];
  const remove = (): void => {
    for (const netns of made.splice(0).reverse()) removeNetns(netns);
  };
  try {
    ip('netns', 'add', lbNetns);
    made.push(lbNetns);
    ip('-n', lbNetns, 'link', 'set', 'lo', 'up');
    ip('-n', lbNetns, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', lbNetns, 'addr', 'add', `${lbAddress}/24`, 'dev', 'br0');
    ip('-n', lbNetns, 'link', 'set', 'br0', 'up');
    for (const host of hosts) {
      ip('netns', 'add', host.netns);
      made.push(host.netns);
      ip('-n', host.netns, 'link', 'set', 'lo', 'up');
      // Made inside `lb` with its peer put straight into the host's namespace: neither end ever
      // has a name in the root namespace, where another lab could hold the same one.
      const port = `veth-${host.name}`;
      ip(
        '-n',
        lbNetns,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        host.netns,
      );
      ip('-n', lbNetns, 'link', 'set', port, 'master', 'br0');
      ip('-n', lbNetns, 'link', 'set', port, 'up');
      ip('-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      ip('-n', host.netns, 'link', 'set', 'eth0', 'up');
    }
  } catch (error) {
    remove();
    throw error;
  }
  return {
    lbNetns,
    lbAddress,
    hosts,
    host: (name) => {
      const host = hosts.find((candidate) => candidate.name === name);
      if (host === undefined) throw new Error(`the lab has no host ${name}`);
      return host;
    },
    remove,
  };
}
