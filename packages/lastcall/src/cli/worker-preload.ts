/**
 * Loaded with `--require` into every worker of `lastcall start`: counts the worker's launch
 * (`<app>.launches.worker`) when launch metrics are on (`LASTCALL_STATSD`). Never throws and
 * never holds the worker: the metric's socket is unref'd.
 */
import { countLaunch } from '../launch-metrics';

void countLaunch('worker');
