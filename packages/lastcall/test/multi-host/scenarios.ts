/**
 * The steps both multi-host suites (HAProxy and nginx) take around their scenarios: the hosts'
 * apps started as docs/deploying.md recommends, a reload under load, and the lab removed after.
 */
import { RECOMMENDED, createHostApp, removeTempDirs, workerPids } from './hosts';
import type { HostApp } from './hosts';
import type { Lab } from './lab';
import { STEADY } from './load';
import type { LoadReport, LoadSlot } from './load';
import { killLabProcesses, sleep } from './processes';

/** One app per host of `lab`, each started with {@link RECOMMENDED}. */
export async function startHostApps(lab: Lab): Promise<HostApp[]> {
  const apps = lab.hosts.map((host) => createHostApp(host));
  await Promise.all(apps.map((app) => app.start(RECOMMENDED)));
  return apps;
}

/** SIGKILLs what still runs in the lab, deletes its namespaces and removes the hosts' folders. */
export function removeLab(lab: Lab | undefined): void {
  killLabProcesses();
  lab?.remove();
  removeTempDirs();
}

/** What {@link reloadUnderLoad} saw. */
export interface ReloadUnderLoad {
  /** The host's worker pids before the reload. */
  readonly pidsBefore: number[];
  readonly reload: Awaited<ReturnType<HostApp['cli']>>;
  readonly report: LoadReport;
}

/**
 * `lastcall reload` of `app`, not disabled first, a second into a steady load through `url`; the
 * load runs a second more, then stops.
 */
export async function reloadUnderLoad(
  lab: Lab,
  app: HostApp,
  url: string,
  load: LoadSlot,
): Promise<ReloadUnderLoad> {
  const pidsBefore = await workerPids(app);
  await load.start(lab, url, STEADY);
  await sleep(1000);
  const reload = await app.cli(['reload']);
  await sleep(1000);
  const report = await load.stop();
  return { pidsBefore, reload, report };
}
