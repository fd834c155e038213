/**
 * The Service of the Kubernetes lab: HAProxy in `mode tcp` (kube-proxy.haproxy.cfg) in the
 * balancer's namespace, with the pods as its endpoints. Removing an endpoint goes through
 * HAProxy's runtime API (a unix socket, so the test reaches it without any network traffic).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import type { Lab } from '../multi-host/lab';
import { APP_PORT, makeTempDir } from '../multi-host/hosts';
import { spawnIn } from '../multi-host/processes';
import type { LabProcess } from '../multi-host/processes';

const CONFIG = path.join(__dirname, 'kube-proxy.haproxy.cfg');
/** The Service's port on the balancer's address. */
export const SERVICE_PORT = 80;

export interface KubeProxy {
  readonly process: LabProcess;
  /** The Service's URL, reachable from the balancer's namespace. */
  readonly url: string;
  /** Takes the endpoint `server` (`a` or `b`) away from new connections; open ones stay. */
  removeEndpoint(server: string): Promise<void>;
  /** The runtime API's answer to `command`. */
  command(command: string): Promise<string>;
}

function ask(socketPath: string, command: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`HAProxy's runtime API did not answer "${command}" within ${String(ms)} ms`),
      );
    }, ms);
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

/** Starts HAProxy with both pods as endpoints; resolves once its runtime API answers. */
export async function startKubeProxy(lab: Lab): Promise<KubeProxy> {
  const socketPath = path.join(makeTempDir('k8s-haproxy'), 'haproxy.sock');
  const haproxy = spawnIn(lab.lbNetns, 'haproxy', ['-db', '-f', CONFIG], {
    env: {
      PATH: process.env['PATH'],
      HAPROXY_STATS_SOCKET: socketPath,
      HAPROXY_BIND: `${lab.lbAddress}:${String(SERVICE_PORT)}`,
      POD_A: lab.host('a').address,
      POD_B: lab.host('b').address,
      APP_PORT: String(APP_PORT),
    },
  });
  const command = (text: string): Promise<string> => ask(socketPath, text, 5000);
  const deadline = Date.now() + 10_000;
  let last = '';
  for (;;) {
    try {
      last = await command('show servers state endpoints');
      if (last.includes('endpoints')) break;
    } catch (error) {
      last = String(error);
    }
    if (!haproxy.isRunning() || Date.now() > deadline) {
      throw new Error(`HAProxy did not start: ${last}\n${haproxy.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    process: haproxy,
    url: `http://${lab.lbAddress}:${String(SERVICE_PORT)}/`,
    command,
    removeEndpoint: async (server) => {
      const answer = await command(`set server endpoints/${server} state maint`);
      if (answer.trim() !== '') throw new Error(`HAProxy refused to remove ${server}: ${answer}`);
    },
  };
}
