import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '@lastcall/log-shim';
import type { LineSink } from './line-sink';
import { OutputRelay } from './output-relay';
import type { DroppedOutput, OutputRelayOptions } from './output-relay';
import type { OutputStreamName } from '../types';

/** Who a worker's output belongs to, for the drop log lines. */
export interface WorkerOutputOwner {
  /** cluster's worker id: the log lines say `worker <id>`, as the worker's own role does. */
  readonly id: number;
  readonly slot: number;
  /** Where drops are logged; default `getLogger('lastcall:master')`. */
  readonly logger?: Logger;
  /**
   * Where its lines go: `'inherit'` (default) to the master's stdout and stderr, or the master's
   * `LineSink` (its `output` option is `'log'` or a function).
   */
  readonly output?: 'inherit' | LineSink;
}

/**
 * A worker's stdout and stderr relayed to the master's own, or to the master's line sink (see
 * {@link OutputRelay}), with the stderr tail kept for crash and abort reports in every mode.
 */
export class WorkerOutput {
  readonly #stdout: OutputRelay | undefined;
  readonly #stderr: OutputRelay | undefined;

  constructor(child: ChildProcess, owner: WorkerOutputOwner) {
    const { id, slot, output = 'inherit' } = owner;
    const pid = child.pid;
    const relay = (
      source: Readable | null,
      stream: OutputStreamName,
      target: Writable,
    ): OutputRelay | undefined => {
      if (source === null) return undefined;
      const options: OutputRelayOptions = {
        fields: { slot, pid },
        ...(owner.logger === undefined ? {} : { logger: owner.logger }),
        name: `worker ${String(id)}'s ${stream}`,
        targetName: `the master's ${stream}`,
        keepTail: stream === 'stderr',
      };
      if (output === 'inherit') return new OutputRelay(source, target, options);
      const info = { slot, id, pid, stream };
      return new OutputRelay(source, output, {
        ...options,
        targetName: output.name,
        write: (block) => {
          output.deliver(block, info);
        },
      });
    };
    this.#stdout = relay(child.stdout, 'stdout', process.stdout);
    this.#stderr = relay(child.stderr, 'stderr', process.stderr);
  }

  /** The last 64 KiB of its stderr. */
  get stderrTail(): string {
    return this.#stderr?.tail ?? '';
  }

  /** Lines of its stdout and stderr dropped because their target could not keep up. */
  get dropped(): DroppedOutput {
    const stdout = this.#stdout?.dropped ?? { lines: 0, bytes: 0 };
    const stderr = this.#stderr?.dropped ?? { lines: 0, bytes: 0 };
    return { lines: stdout.lines + stderr.lines, bytes: stdout.bytes + stderr.bytes };
  }
}
