/**
 * A second host for tests of what crosses a network: a network namespace joined to this one by
 * a veth pair, its own address on each end. Needs root and iproute2 (`.ci/run` installs it).
 */
import { execFile, execFileSync } from 'node:child_process';

export interface TestHost {
  /** This side's address, which the other host reaches us on. */
  readonly localAddress: string;
  /** The other host's address, the one our servers see. */
  readonly remoteAddress: string;
  /** Runs `node -e script` on the other host; resolves with its stdout. */
  node(script: string, timeoutMs?: number): Promise<string>;
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the namespace; names and the /30 subnet derive from the pid, so parallel files differ. */
export function createTestHost(): TestHost {
  const tag = `lc${String(process.pid)}`;
  const octet = String(process.pid % 250);
  const localAddress = `10.231.${octet}.1`;
  const remoteAddress = `10.231.${octet}.2`;
  const hostEnd = `${tag}h`;
  const otherEnd = `${tag}n`;
  ip('netns', 'add', tag);
  try {
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', otherEnd);
    ip('link', 'set', otherEnd, 'netns', tag);
    ip('addr', 'add', `${localAddress}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('-n', tag, 'addr', 'add', `${remoteAddress}/30`, 'dev', otherEnd);
    ip('-n', tag, 'link', 'set', otherEnd, 'up');
    ip('-n', tag, 'link', 'set', 'lo', 'up');
  } catch (error) {
    ip('netns', 'del', tag);
    throw error;
  }
  return {
    localAddress,
    remoteAddress,
    node: (script, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        execFile(
          'ip',
          ['netns', 'exec', tag, process.execPath, '-e', script],
          { timeout: timeoutMs },
          (error, stdout, stderr) => {
            if (error === null) resolve(stdout);
            else reject(new Error(`${error.message}\n${stderr}`));
          },
        );
      }),
    remove: () => {
      // Deleting the namespace deletes the veth pair with it.
      ip('netns', 'del', tag);
    },
  };
}
