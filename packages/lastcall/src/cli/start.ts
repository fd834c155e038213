import * as fs from 'node:fs';
import * as path from 'node:path';
import { Graceful } from '@lastcall/graceful';
import { getLogger } from '@lastcall/log-shim';
import { Master, MasterError } from '@lastcall/master';
import type { MasterOptions } from '@lastcall/master';
import { countLaunch } from '../launch-metrics';
import type { StartArgs } from './args';
import { UsageFailure } from './args';
import { loadConfig } from './config';
import type { FileConfig } from './config';
import { ControlServer } from './control';
import { CliFailure, EXIT } from './exit-codes';
import type { ExitCode } from './exit-codes';
import {
  controlSocketPath,
  defaultName,
  ensureRunDir,
  livePid,
  masterPidFile,
  runDir,
} from './paths';

/** The preload that counts each worker's launch (`<app>.launches.worker`). */
const WORKER_PRELOAD = require.resolve('./worker-preload');

/** Where `start` writes and what it knows of its surroundings; replaced in tests. */
export interface StartContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
}

/** The exit code of each start failure of the master. */
const START_EXIT: Partial<Record<string, ExitCode>> = {
  LASTCALL_ERR_MASTER_PORT_IN_USE: EXIT.portInUse,
  LASTCALL_ERR_MASTER_START_FAILED: EXIT.startFailed,
  LASTCALL_ERR_MASTER_PID_FILE_IN_USE: EXIT.alreadyRunning,
  LASTCALL_ERR_MASTER_PID_FILE_FAILED: EXIT.badConfig,
  LASTCALL_ERR_MASTER_PID_DIR_FAILED: EXIT.badConfig,
};

/**
 * `lastcall start`: runs the master in this process. Resolves once every worker is ready (the
 * process then lives on until SIGTERM or `lastcall stop`); throws a {@link CliFailure} when the
 * master cannot start.
 */
export async function start(args: StartArgs, context: StartContext): Promise<void> {
  const script = path.resolve(context.cwd, args.script);
  if (!fs.existsSync(script) || !fs.statSync(script).isFile()) {
    throw new CliFailure(EXIT.scriptNotFound, `script not found: ${script}`);
  }
  const { file, config } = await loadConfig(context.cwd, args.config);
  const name = args.name ?? config.name ?? defaultName(context.cwd, context.env);
  const givenPidDir = args.pidDir ?? config.pidDir;
  const pidDir = givenPidDir === undefined ? undefined : path.resolve(context.cwd, givenPidDir);
  const pidFile = path.resolve(
    context.cwd,
    args.pidFile ?? config.pidFile ?? masterPidFile(name, pidDir, context.env),
  );
  ensureRunDir(runDir(context.env));
  // Our own pid in it is a pid file of a master that was killed (SIGKILL, the OOM killer) and
  // had the same pid as this one: PID 1 of a container restarted over the same run folder.
  const running = livePid(pidFile);
  if (running !== undefined && running !== process.pid) {
    throw new CliFailure(
      EXIT.alreadyRunning,
      `a master of "${name}" is running already (pid ${String(running)}, pid file ${pidFile})`,
    );
  }
  // A pid folder of the user's own is the master's to make and check (0755: monitors read it).
  if (pidDir === undefined || path.dirname(pidFile) !== pidDir) {
    fs.mkdirSync(path.dirname(pidFile), { recursive: true, mode: 0o700 });
  }
  // The master's own crash reports, logs and launch metric carry the app's name.
  process.env['LASTCALL_APP_NAME'] = name;
  const options = masterOptions(args, config, { script, name, pidFile, pidDir });
  let master: Master;
  try {
    master = new Master(options);
  } catch (error) {
    if (error instanceof MasterError) {
      throw new CliFailure(EXIT.badConfig, `${file ?? 'options'}: ${error.message}`);
    }
    throw error;
  }
  const log = getLogger('lastcall');
  void countLaunch('master', { appName: name, logger: log });
  // Started before the master, so that the control socket's hook runs after the master's
  // (hooks run last first): `lastcall status` answers while the workers drain.
  const graceful = Graceful.start(master.gracefulOptions);
  const startedAt = Date.now();
  const control = new ControlServer(
    controlSocketPath(pidFile, context.env),
    {
      status: () => ({
        master: {
          pid: process.pid,
          name,
          script,
          uptime: Date.now() - startedAt,
          heartbeat: master.heartbeatAddress(),
          disabled: master.isDisabled,
          health: master.health(),
        },
        workers: master.status(),
      }),
      setDisabled: (isDisabled) => {
        if (isDisabled) master.disable();
        else master.enable();
        return { disabled: master.isDisabled, health: master.health() };
      },
      reload: () => master.restart(),
      stop: (force) => {
        const workers = master.status().map(({ slot, pid }) => ({ slot, pid }));
        if (force) void forceStop();
        else void graceful.shutdown();
        return { force, workers };
      },
    },
    log,
  );
  graceful.onShutdown(
    () => {
      control.close();
    },
    { name: 'lastcall control socket' },
  );
  // `lastcall stop --force`: no shutdown delay and no drain, also when a graceful stop is under
  // way; the master exits 0 once every worker is gone (or with the code of a shutdown under way).
  const forceStop = async (): Promise<void> => {
    await master.stop({ force: true });
    const code = graceful.state === 'running' ? 0 : graceful.exitCode;
    log.info(`forced stop: every worker has exited; exiting with ${String(code)}`);
    control.close();
    process.exit(code);
  };
  process.once('exit', () => {
    control.close();
  });
  // Listened on at the first fork: by then the master owns the pid file.
  master.once('fork', () => {
    control.listen().catch((error: unknown) => {
      log.warn(
        `the control socket could not listen; reload, stop and status will not reach this master: ${String(error)}`,
      );
    });
  });
  try {
    await master.start();
  } catch (error) {
    control.close();
    graceful.uninstall();
    if (error instanceof MasterError) {
      throw new CliFailure(START_EXIT[error.code] ?? EXIT.failed, error.message);
    }
    throw error;
  }
  const heartbeat = master.heartbeatAddress();
  context.out(
    `lastcall: ${name} is running ${String(master.status().length)} workers of ${path.relative(context.cwd, script) || script} (master pid ${String(process.pid)})` +
      (heartbeat === undefined
        ? ''
        : `; heartbeat on http://${heartbeat.address}:${String(heartbeat.port)}/ecv`),
  );
}

/** Flags win over the file, the file over the environment (which Master reads itself). */
export function masterOptions(
  args: StartArgs,
  config: FileConfig,
  resolved: {
    readonly script: string;
    readonly name: string;
    readonly pidFile: string;
    readonly pidDir?: string | undefined;
  },
): MasterOptions {
  const { name: _name, ...fromFile } = config;
  const heartbeat =
    args.heartbeatPort === undefined &&
    args.heartbeatHost === undefined &&
    args.heartbeatToken === undefined
      ? fromFile.heartbeat
      : {
          ...fromFile.heartbeat,
          ...(args.heartbeatPort === undefined ? {} : { port: args.heartbeatPort }),
          ...(args.heartbeatHost === undefined ? {} : { host: args.heartbeatHost }),
          ...(args.heartbeatToken === undefined ? {} : { token: args.heartbeatToken }),
        };
  const flag =
    args.heartbeatHost !== undefined
      ? '--heartbeat-host'
      : args.heartbeatToken !== undefined
        ? '--heartbeat-token'
        : undefined;
  if (flag !== undefined && (heartbeat as { port?: unknown }).port === undefined) {
    throw new UsageFailure(
      `${flag} needs --heartbeat-port (or heartbeat.port in the configuration)`,
      'start',
    );
  }
  return {
    ...fromFile,
    exec: resolved.script,
    args: args.scriptArgs.length > 0 ? args.scriptArgs : (fromFile.args ?? []),
    execArgv: [...(fromFile.execArgv ?? []), '--require', WORKER_PRELOAD],
    env: { ...fromFile.env, ...args.env, LASTCALL_APP_NAME: resolved.name },
    ...(args.workers === undefined ? {} : { workers: args.workers }),
    ...(args.output === undefined ? {} : { output: args.output }),
    ...(args.shutdownDelay === undefined ? {} : { shutdownDelay: args.shutdownDelay }),
    ...(args.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: args.keepAliveTimeout }),
    ...(args.headersTimeout === undefined ? {} : { headersTimeout: args.headersTimeout }),
    ...(heartbeat === undefined
      ? {}
      : { heartbeat: heartbeat as NonNullable<MasterOptions['heartbeat']> }),
    pidFile: resolved.pidFile,
    ...(resolved.pidDir === undefined ? {} : { pidDir: resolved.pidDir }),
  };
}
