import * as fs from 'node:fs';
import * as net from 'node:net';
import { describeValue } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import type { HeartbeatBody, MasterError, RestartReport, WorkerInfo } from '@lastcall/master';
import { CliFailure, EXIT } from './exit-codes';
import { assertSafeControlSocket } from './paths';

/**
 * The control channel of a `lastcall start` master: a unix socket in the run folder, born mode
 * 0600 in a folder of its user's that no one else can write into, so only its user can reload or
 * stop it; idle clients are cut off after {@link CONTROL_IDLE_TIMEOUT} ms, and at most
 * {@link MAX_CONTROL_CLIENTS} are served at once. One request per connection,
 * one JSON line each way: `{"command":"status"}` → `{"ok":true,...}` or
 * `{"ok":false,"error":{"code","message"}}`. `stop` takes `"force":true` for the immediate stop.
 */

export type ControlCommand = 'status' | 'reload' | 'stop' | 'disable' | 'enable';

export interface MasterSummary {
  readonly pid: number;
  readonly name: string;
  readonly script: string;
  readonly uptime: number;
  readonly heartbeat: { readonly address: string; readonly port: number } | undefined;
  /** Out of rotation by `lastcall disable`; a master before it leaves it out. */
  readonly disabled?: boolean;
  /** What the heartbeat answers now (also without a heartbeat listener). */
  readonly health?: { readonly statusCode: number; readonly body: HeartbeatBody };
}

export interface StatusReply {
  readonly master: MasterSummary;
  readonly workers: readonly WorkerInfo[];
}

/** What the master answers to `stop`: the stop it began and the workers it applies to. */
export interface StopReply {
  /** True for the immediate stop (SIGKILL); a master that predates it leaves `stopping` out. */
  readonly force: boolean;
  readonly workers: readonly { readonly slot: number; readonly pid: number | undefined }[];
}

export type ControlReply =
  | {
      readonly ok: true;
      readonly status?: StatusReply;
      readonly report?: RestartReport;
      readonly stopping?: StopReply;
      /** `disable`, `enable`: the rotation after it, and what the heartbeat answers now. */
      readonly rotation?: RotationReply;
    }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: string | undefined;
        readonly message: string;
      };
    };

/** What the master answers to `disable` and `enable`. */
export interface RotationReply {
  readonly disabled: boolean;
  readonly health: { readonly statusCode: number; readonly body: HeartbeatBody };
}

/** What the master does for each command. */
export interface ControlActions {
  status(): StatusReply;
  reload(): Promise<RestartReport>;
  /**
   * Begins the graceful stop, or with `force` the immediate one (SIGKILL to every worker and its
   * children, then the master exits); the caller watches the pid.
   */
  stop(force: boolean): StopReply;
  /** Takes the host out of rotation (true) or back; answers the state after it. */
  setDisabled(isDisabled: boolean): RotationReply;
}

/** The longest request line read; a client sending more is cut off. */
const MAX_REQUEST_BYTES = 4096;

/** A client that sends no whole request line within this many ms is cut off. */
export const CONTROL_IDLE_TIMEOUT = 5000;

/** At most this many control connections at once; more are refused until one ends. */
export const MAX_CONTROL_CLIENTS = 16;

export class ControlServer {
  readonly #socketPath: string;
  readonly #actions: ControlActions;
  readonly #log: Logger;
  readonly #server: net.Server;

  constructor(socketPath: string, actions: ControlActions, log: Logger) {
    this.#socketPath = socketPath;
    this.#actions = actions;
    this.#log = log;
    this.#server = net.createServer((socket) => {
      this.#serve(socket);
    });
    this.#server.maxConnections = MAX_CONTROL_CLIENTS;
  }

  /**
   * Listens, replacing a stale socket file (the caller owns the pid file, so none is live). The
   * caller has checked the folder (`ensureRunDir`). The socket is born 0600: the umask is set
   * around the bind, which Node does synchronously inside `listen()` in a cluster primary, so
   * no chmod follows (a chmod by path after listen would follow a symlink swapped in between).
   */
  listen(): Promise<void> {
    fs.rmSync(this.#socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      const umask = process.umask(0o177);
      try {
        this.#server.listen(this.#socketPath, () => {
          this.#server.off('error', reject);
          // The control socket never keeps a master alive that has nothing else to do.
          this.#server.unref();
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
  }

  /** Stops listening and removes the socket file; connections under way finish. */
  close(): void {
    // Only a socket this server listens on: a start that lost the pid-file race to another
    // master closes too (before it ever listened), and that master's socket must stay.
    const isListening = this.#server.listening;
    this.#server.close();
    if (isListening) fs.rmSync(this.#socketPath, { force: true });
  }

  #serve(socket: net.Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    // Idle and half-line clients are cut off; a reload under way is answered whatever it takes.
    socket.setTimeout(CONTROL_IDLE_TIMEOUT, () => {
      if (buffered.includes('\n')) socket.setTimeout(0);
      else socket.destroy();
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline === -1) {
        if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
        return;
      }
      socket.removeAllListeners('data');
      socket.setTimeout(0);
      void this.#answer(buffered.slice(0, newline)).then((reply) => {
        if (!socket.destroyed) socket.end(`${JSON.stringify(reply)}\n`);
      });
    });
  }

  async #answer(line: string): Promise<ControlReply> {
    let command: unknown;
    let force: unknown;
    try {
      ({ command, force } = JSON.parse(line) as { command?: unknown; force?: unknown });
    } catch {
      command = undefined;
    }
    try {
      switch (command) {
        case 'status':
          return { ok: true, status: this.#actions.status() };
        case 'reload':
          this.#log.info('reload asked on the control socket');
          return { ok: true, report: await this.#actions.reload() };
        case 'disable':
        case 'enable':
          this.#log.info(`${command} asked on the control socket`);
          return { ok: true, rotation: this.#actions.setDisabled(command === 'disable') };
        case 'stop':
          if (force !== undefined && typeof force !== 'boolean') {
            return {
              ok: false,
              error: {
                code: undefined,
                message: `stop: "force" must be true or false, got ${describeValue(force)}`,
              },
            };
          }
          this.#log.info(
            force === true
              ? 'forced stop asked on the control socket'
              : 'stop asked on the control socket',
          );
          return { ok: true, stopping: this.#actions.stop(force === true) };
        default:
          return {
            ok: false,
            error: { code: undefined, message: `unknown request ${line.slice(0, 100)}` },
          };
      }
    } catch (error) {
      const { code, message } = error as Partial<MasterError>;
      return {
        ok: false,
        error: {
          code: typeof code === 'string' ? code : undefined,
          message: message ?? String(error),
        },
      };
    }
  }
}

/**
 * Sends one command and resolves with the reply. Throws a {@link CliFailure}: `notRunning` when
 * nothing listens on the socket, `timeout` after `timeoutMs`, `failed` for a broken answer.
 */
export async function askMaster(
  socketPath: string,
  command: ControlCommand,
  timeoutMs: number,
  fields: { readonly force?: boolean } = {},
): Promise<ControlReply> {
  assertSafeControlSocket(socketPath);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new CliFailure(
          EXIT.timeout,
          `${command}: no answer from the master within ${String(timeoutMs / 1000)} s`,
        ),
      );
    }, timeoutMs);
    const fail = (failure: CliFailure): void => {
      clearTimeout(timer);
      reject(failure);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(`${JSON.stringify({ command, ...fields })}\n`);
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        fail(new CliFailure(EXIT.notRunning, `no master listens on ${socketPath}`));
      } else {
        fail(new CliFailure(EXIT.failed, `${command}: ${error.message}`));
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(answer) as ControlReply);
      } catch {
        reject(
          new CliFailure(
            EXIT.failed,
            `${command}: the master closed the control socket without an answer (did it exit?)`,
          ),
        );
      }
    });
  });
}
