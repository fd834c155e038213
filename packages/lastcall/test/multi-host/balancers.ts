/**
 * The real balancers of the lab, from Debian's packages, each run in the foreground inside the
 * balancer's namespace with the configuration of examples/multi-host (the one docs/deploying.md
 * shows): HAProxy 2.6 (`haproxy -f haproxy.cfg -db`, its values from the environment) and nginx
 * (`nginx.conf.template` filled in, then `nginx -c ... -g 'daemon off;'`).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { APP_PORT, EXAMPLE_DIR, HEARTBEAT_PORT, makeTempDir } from './hosts';
import type { Lab } from './lab';
import { runIn, sleep, spawnIn } from './processes';
import type { LabProcess } from './processes';

/** Where the frontends listen, inside the balancer's namespace. */
export const HAPROXY_PORT = 8000;
export const NGINX_PORT = 8001;

/** A server's state as HAProxy's runtime API shows it (`show servers state`). */
export type ServerState = 'up' | 'down' | 'starting' | 'stopping' | 'maint';

export interface Haproxy {
  readonly process: LabProcess;
  readonly statsSocket: string;
  readonly url: string;
  /** Sends one command to the runtime API; resolves with its answer. */
  command(line: string): Promise<string>;
  /** Each server of backend `app` and its state. */
  serverStates(): Promise<Record<string, ServerState>>;
  /** Resolves when `server` is in `state`; rejects after `ms`. */
  waitForState(server: string, state: ServerState, ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** HAProxy's `srv_op_state` (enum srv_state) and the maintenance bits of `srv_admin_state`. */
const OP_STATES: Record<string, ServerState> = {
  '0': 'down',
  '1': 'starting',
  '2': 'up',
  '3': 'stopping',
};

function ask(socketPath: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    socket.setTimeout(5000, () => {
      socket.destroy(new Error(`HAProxy did not answer ${line} within 5000 ms`));
    });
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(answer);
    });
    socket.end(`${line}\n`);
  });
}

/** Parses `show servers state <backend>`: a version line, a `# names` line, then one row each. */
export function parseServersState(text: string): Record<string, ServerState> {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.find((line) => line.startsWith('# '));
  if (header === undefined) throw new Error(`not a servers state answer: ${text}`);
  const names = header.slice(2).split(' ');
  const states: Record<string, ServerState> = {};
  for (const line of lines.filter((candidate) => /^\d+ /.test(candidate))) {
    const fields = line.split(' ');
    const field = (name: string): string => fields[names.indexOf(name)] ?? '';
    const isInMaintenance = (Number(field('srv_admin_state')) & 0x7) !== 0;
    states[field('srv_name')] = isInMaintenance
      ? 'maint'
      : (OP_STATES[field('srv_op_state')] ?? 'down');
  }
  return states;
}

async function waitUntilFile(file: string, process: LabProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (!process.isRunning()) throw new Error(`exited before ${file}: ${process.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`no ${file} within ${String(ms)} ms: ${process.stderr()}`);
    await sleep(50);
  }
}

/** Starts HAProxy with examples/multi-host/haproxy.cfg for the lab's hosts `a` and `b`. */
export async function startHaproxy(lab: Lab): Promise<Haproxy> {
  const dir = makeTempDir('haproxy');
  const statsSocket = path.join(dir, 'admin.sock');
  const process_ = spawnIn(
    lab.lbNetns,
    'haproxy',
    ['-f', path.join(EXAMPLE_DIR, 'haproxy.cfg'), '-db'],
    {
      env: {
        PATH: process.env['PATH'],
        HAPROXY_STATS_SOCKET: statsSocket,
        HAPROXY_BIND: `127.0.0.1:${String(HAPROXY_PORT)}`,
        HOST_A: lab.host('a').address,
        HOST_B: lab.host('b').address,
        APP_PORT: String(APP_PORT),
        HEARTBEAT_PORT: String(HEARTBEAT_PORT),
      },
    },
  );
  await waitUntilFile(statsSocket, process_, 15_000);
  const command = (line: string): Promise<string> => ask(statsSocket, line);
  const serverStates = async (): Promise<Record<string, ServerState>> =>
    parseServersState(await command('show servers state app'));
  return {
    process: process_,
    statsSocket,
    url: `http://127.0.0.1:${String(HAPROXY_PORT)}/`,
    command,
    serverStates,
    waitForState: async (server, state, ms) => {
      // The runtime API has no way to subscribe to a state change: it is asked every 50 ms.
      const deadline = Date.now() + ms;
      let last: ServerState | undefined;
      while (Date.now() <= deadline) {
        last = (await serverStates())[server];
        if (last === state) return;
        await sleep(50);
      }
      throw new Error(
        `HAProxy's server ${server} is ${String(last)}, not ${state}, after ${String(ms)} ms`,
      );
    },
    stop: async () => {
      process_.kill('SIGTERM');
      await process_.exited(10_000);
    },
  };
}

export interface Nginx {
  readonly process: LabProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/** Fills in `${NAME}` from `values`, as envsubst does; a name without a value is an error. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the template needs ${name}`);
    return value;
  });
}

/** Starts nginx with examples/multi-host/nginx.conf.template for the lab's hosts `a` and `b`. */
export async function startNginx(lab: Lab): Promise<Nginx> {
  const dir = makeTempDir('nginx');
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'nginx.conf');
  const template = fs.readFileSync(path.join(EXAMPLE_DIR, 'nginx.conf.template'), 'utf8');
  fs.writeFileSync(
    conf,
    fillTemplate(template, {
      NGINX_PID: path.join(dir, 'nginx.pid'),
      NGINX_LISTEN: `127.0.0.1:${String(NGINX_PORT)}`,
      HOST_A: lab.host('a').address,
      HOST_B: lab.host('b').address,
      APP_PORT: String(APP_PORT),
    }),
  );
  const process_ = spawnIn(
    lab.lbNetns,
    'nginx',
    ['-p', dir, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'],
    { env: { PATH: process.env['PATH'] } },
  );
  const url = `http://127.0.0.1:${String(NGINX_PORT)}/`;
  // nginx says nothing when it listens: its frontend is asked until it answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = await runIn(
      lab.lbNetns,
      'curl',
      ['-s', '-o', '/dev/null', '-m', '2', '-w', '%{http_code}', url],
      { env: { PATH: process.env['PATH'] } },
    );
    if (probe.stdout !== '000') break;
    if (!process_.isRunning() || Date.now() > deadline) {
      throw new Error(`nginx did not listen on ${url}: ${process_.stderr()}`);
    }
    await sleep(100);
  }
  return {
    process: process_,
    url,
    stop: async () => {
      process_.kill('SIGQUIT');
      await process_.exited(10_000);
    },
  };
}
