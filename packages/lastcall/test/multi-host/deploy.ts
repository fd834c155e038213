/**
 * The example deploy driver (examples/multi-host/deploy.js) as a real process, run where an
 * operator's deploy machine would be: in the balancer's namespace, which reaches every host's
 * heartbeat, HAProxy's runtime socket (a file) and each host's `lastcall` (its control socket).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Haproxy } from './balancers';
import { EXAMPLE_DIR, makeTempDir } from './hosts';
import type { HostApp } from './hosts';
import type { Lab } from './lab';
import { runIn } from './processes';

export const DEPLOY_SCRIPT = path.join(EXAMPLE_DIR, 'deploy.js');

/** Runs deploy.js over `apps` behind `haproxy` (or nginx when undefined); bounded by `ms`. */
export async function runDeploy(
  lab: Lab,
  apps: readonly HostApp[],
  {
    haproxy,
    expectVersion,
    ms = 120_000,
  }: { haproxy: Haproxy | undefined; expectVersion?: string; ms?: number },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const config = {
    balancer:
      haproxy === undefined
        ? { type: 'nginx' }
        : { type: 'haproxy', statsSocket: haproxy.statsSocket, backend: 'app' },
    hosts: apps.map((app) => ({
      server: app.host.name,
      name: app.name,
      heartbeat: app.heartbeatUrl,
      lastcall: app.lastcallCommand,
    })),
    timeoutMs: 30_000,
  };
  const file = path.join(makeTempDir('deploy'), 'deploy.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const args = [DEPLOY_SCRIPT, file];
  if (expectVersion !== undefined) args.push('--expect-version', expectVersion);
  return runIn(lab.lbNetns, process.execPath, args, { env: { PATH: process.env['PATH'] } }, ms);
}
