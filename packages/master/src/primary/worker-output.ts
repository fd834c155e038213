import type { ChildProcess } from 'node:child_process';
import type { Logger } from '@lastcall/log-shim';
import { OutputRelay } from './output-relay';
import type { DroppedOutput } from './output-relay';

/** Who a worker's output belongs to, for the drop log lines. */
export interface WorkerOutputOwner {
  /** cluster's worker id: the log lines say `worker <id>`, as the worker's own role does. */
  readonly id: number;
  readonly slot: number;
  /** Where drops are logged; default `getLogger('lastcall:master')`. */
  readonly logger?: Logger;
}

/**
 * A worker's stdout and stderr relayed to the master's own (see {@link OutputRelay}), with the
 * stderr tail kept for crash and abort reports.
 */
export class WorkerOutput {
  readonly #stdout: OutputRelay | undefined;
  readonly #stderr: OutputRelay | undefined;

  constructor(child: ChildProcess, owner: WorkerOutputOwner) {
    const common = {
      fields: { slot: owner.slot, pid: child.pid },
      ...(owner.logger === undefined ? {} : { logger: owner.logger }),
    };
    const worker = `worker ${String(owner.id)}`;
    this.#stdout = child.stdout
      ? new OutputRelay(child.stdout, process.stdout, {
          ...common,
          name: `${worker}'s stdout`,
          targetName: "the master's stdout",
        })
      : undefined;
    this.#stderr = child.stderr
      ? new OutputRelay(child.stderr, process.stderr, {
          ...common,
          name: `${worker}'s stderr`,
          targetName: "the master's stderr",
          keepTail: true,
        })
      : undefined;
  }

  /** The last 64 KiB of its stderr. */
  get stderrTail(): string {
    return this.#stderr?.tail ?? '';
  }

  /** Lines of its stdout and stderr dropped because the master's could not keep up. */
  get dropped(): DroppedOutput {
    const stdout = this.#stdout?.dropped ?? { lines: 0, bytes: 0 };
    const stderr = this.#stderr?.dropped ?? { lines: 0, bytes: 0 };
    return { lines: stdout.lines + stderr.lines, bytes: stdout.bytes + stderr.bytes };
  }
}
