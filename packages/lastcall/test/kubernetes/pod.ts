/**
 * A pod of the Kubernetes lab, started from examples/kubernetes/deployment.yaml as a container
 * runtime starts the `app` container: its command and args in a PID namespace of their own
 * (`unshare --pid --fork --mount-proc`, so the first of them is PID 1), with the container's env,
 * inside one host's network namespace. The image's `node_modules/.bin/lastcall` is the built CLI;
 * the env's `valueFrom` sources get what the kubelet would give: the Secret's token, the pod's
 * name, the CPU limit.
 */
import type { LabHost } from '../multi-host/lab';
import { APP_PORT, CLI, HEARTBEAT_PORT, makeTempDir } from '../multi-host/hosts';
import { spawnIn } from '../multi-host/processes';
import type { LabProcess } from '../multi-host/processes';
import { EXAMPLE_DIR, containerPort, cpuLimitValue, readManifest } from './manifest';
import type { Container, EnvEntry } from './manifest';
import { childrenOf, pidNamespaceOf } from './pid-namespace';

/** The Secret's value, given to the master as LASTCALL_HEARTBEAT_TOKEN. */
export const HEARTBEAT_TOKEN = 'k8s-lab-heartbeat-token-0123456789';
/** The program the manifest's args start with, as the image installs it. */
const IMAGE_LASTCALL = 'node_modules/.bin/lastcall';

/** What runs as PID 1: lastcall's master itself, or tini with the master as its child. */
export type PodInit = 'lastcall' | 'tini';

export interface PodOptions {
  /** PID 1 (default: what the manifest's `command` says: tini). */
  readonly init?: PodInit;
  /** The app's script in place of the manifest's `app.js`. */
  readonly app?: string;
  /** More flags of `lastcall start`, after the manifest's. */
  readonly args?: readonly string[];
  /**
   * The run folder (LASTCALL_RUN_DIR): by default a new one; a former pod's for a volume that
   * outlives the container (an emptyDir survives a container's restart).
   */
  readonly runDir?: string;
}

export interface Pod {
  readonly host: LabHost;
  /** `unshare`: it exits with PID 1's exit code once the namespace's init has exited. */
  readonly process: LabProcess;
  /** PID 1 of the pod, by its pid in the root namespace: where the kubelet's SIGTERM goes. */
  readonly initPid: number;
  /** lastcall's master, by its pid in the root namespace (initPid unless under tini). */
  readonly masterPid: number;
  /** `pid:[<inode>]` of the pod's PID namespace. */
  readonly pidNamespace: string;
  readonly runDir: string;
  readonly heartbeatUrl: string;
  readonly appUrl: string;
}

/** The value the kubelet gives `entry` in the lab; throws for a source the lab does not know. */
function envValue(entry: EnvEntry, container: Container, host: LabHost): string {
  if (entry.value !== undefined) return entry.value;
  const source = entry.valueFrom;
  if (source?.secretKeyRef !== undefined && entry.name === 'LASTCALL_HEARTBEAT_TOKEN') {
    return HEARTBEAT_TOKEN;
  }
  if (source?.fieldRef?.fieldPath === 'metadata.name') return host.name;
  if (source?.resourceFieldRef?.resource === 'limits.cpu') {
    return cpuLimitValue(container.resources.limits.cpu, source.resourceFieldRef.divisor);
  }
  throw new Error(`the lab gives no value to the manifest's env ${entry.name}`);
}

function onlyChild(pid: number, what: string): number {
  const children = childrenOf(pid);
  const [child] = children;
  if (children.length !== 1 || child === undefined) {
    throw new Error(`${what} (pid ${String(pid)}) has ${String(children.length)} children`);
  }
  return child.pid;
}

/** The container's command line in the lab, from the manifest. */
function commandLine(container: Container, init: PodInit, options: PodOptions): string[] {
  const [program, ...args] = container.args;
  if (program !== IMAGE_LASTCALL) {
    throw new Error(`the manifest's args start with ${String(program)}, not ${IMAGE_LASTCALL}`);
  }
  const app = options.app;
  return [
    ...(init === 'tini' ? ['tini', '--'] : []),
    process.execPath,
    CLI,
    ...args.map((arg) => (arg === 'app.js' && app !== undefined ? app : arg)),
    ...(options.args ?? []),
  ];
}

/** Starts the pod on `host`; resolves once its master says every worker is ready. */
export async function startPod(host: LabHost, options: PodOptions = {}): Promise<Pod> {
  const { container } = readManifest();
  // The lab's balancer and probes use the harness's ports: the manifest must name the same.
  if (containerPort(container, 'http') !== APP_PORT) throw new Error('the http port drifted');
  if (containerPort(container, 'heartbeat') !== HEARTBEAT_PORT) {
    throw new Error('the heartbeat port drifted');
  }
  const init = options.init ?? (container.command?.[0] === 'tini' ? 'tini' : 'lastcall');
  const runDir = options.runDir ?? makeTempDir(`k8s-run-${host.name}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    LASTCALL_RUN_DIR: runDir,
    LASTCALL_LOG_LEVEL: 'info',
  };
  for (const entry of container.env) env[entry.name] = envValue(entry, container, host);
  const podProcess = spawnIn(
    host.netns,
    'unshare',
    [
      '--pid',
      '--fork',
      '--mount-proc',
      // A test that fails midway SIGKILLs unshare: PID 1 goes with it, and so does the namespace.
      '--kill-child',
      ...commandLine(container, init, options),
    ],
    { cwd: EXAMPLE_DIR, env },
  );
  const workers = env['LASTCALL_WORKERS'] ?? '';
  await podProcess.waitForLine(new RegExp(`^lastcall: \\S+ is running ${workers} workers`), 30_000);
  const initPid = onlyChild(podProcess.pid, 'unshare');
  const masterPid = init === 'tini' ? onlyChild(initPid, 'tini') : initPid;
  const pidNamespace = pidNamespaceOf(initPid);
  if (pidNamespace === undefined || pidNamespace === pidNamespaceOf(process.pid)) {
    throw new Error(`PID 1 (pid ${String(initPid)}) is not in a PID namespace of its own`);
  }
  return {
    host,
    process: podProcess,
    initPid,
    masterPid,
    pidNamespace,
    runDir,
    heartbeatUrl: `http://${host.address}:${String(HEARTBEAT_PORT)}`,
    appUrl: `http://${host.address}:${String(APP_PORT)}`,
  };
}
