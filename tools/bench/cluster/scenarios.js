'use strict';
/**
 * The scenarios of the cluster bench. Each one runs against a manager that serves steadily under
 * the compliant load; `event()` does the scenario's thing and resolves with its own figures once
 * it is over (the event window ends there). Times are ms since the load began.
 */
const fs = require('node:fs');
const { isAlive, kill, sleep, until } = require('./managers');
const { answeringPids, untilServing } = require('./load');

/**
 * `warmMs` is how long the load runs before the steady phase (run-one.js defaults to 300). A
 * fresh worker serves at a third of its speed in its first second, until its code is compiled,
 * so the scenarios whose throughput is compared (T0, and R1 and C1, which are charted) warm up
 * for 1.5 s; the others count failures, which do not depend on it.
 * `afterMs` is how long the load goes on once the event is over (run-one.js defaults to 500):
 * enough to see the service recover, and short where there is nothing left to see.
 */

/** The pids answering now, and the supervisor's, for later checks. */
async function pidsNow(running) {
  return running.workerPids();
}

const SCENARIOS = {
  T0: {
    title: 'steady load, no event',
    warmMs: 1500,
    afterMs: 0,
    /** How long the throughput is counted. */
    countMs: 2000,
    async event({ load }) {
      const from = load.now();
      await sleep(this.countMs);
      const to = load.now();
      const answered = load.records.filter(
        (record) => record.kind === 'ok' && record.end >= from && record.end < to,
      ).length;
      return { rps: Math.round((answered * 1000) / (to - from)) };
    },
  },
  R1: {
    title: 'rolling restart',
    warmMs: 1500,
    async event({ running }) {
      const before = await pidsNow(running);
      const reload = await running.reload();
      const after = await pidsNow(running);
      return {
        reloadMs: reload.ms,
        reloadCode: reload.code,
        replaced: after.filter((pid) => !before.includes(pid)).length,
      };
    },
  },
  R2: {
    title: 'rolling restart with 20 long requests in flight',
    async event({ running, load }) {
      const long = load.burst('/slow?ms=2000', 20);
      await sleep(200);
      const reload = await running.reload();
      const records = await long;
      return {
        reloadMs: reload.ms,
        reloadCode: reload.code,
        longCompleted: records.filter((record) => record.kind === 'ok').length,
        longFailed: records.filter((record) => record.kind !== 'ok').length,
      };
    },
  },
  R3: {
    title: 'rolling restart of a broken build',
    // The event itself waits 1 s after the reload for a manager that went down to show it.
    afterMs: 300,
    async event({ running, port, setMode }) {
      setMode('broken');
      const reload = await running.reload();
      // The service must still answer afterwards: give a manager that went down time to show it,
      // then count the pids that answer on new connections (a manager's own list can name
      // workers that were forked and cannot start).
      await sleep(1000);
      const serving = await answeringPids(port);
      return {
        reloadMs: reload.ms,
        reloadCode: reload.code,
        reportedFailed: reload.code !== 0,
        servingAfter: serving.length,
      };
    },
  },
  C1: {
    title: 'a worker crash',
    warmMs: 1500,
    async event({ running, port }) {
      const before = await pidsNow(running);
      const [victim] = before;
      const crashedAt = Date.now();
      kill(victim, 'SIGWINCH');
      // The replacement serves when a pid that was not there answers, asked on new connections:
      // the same measure for every manager, whatever its own status says.
      try {
        await untilServing(port, 1, { besides: before.map(String) });
        return { replacementMs: Date.now() - crashedAt };
      } catch {
        return { replacementMs: undefined };
      }
    },
  },
  C2: {
    title: 'a crash loop in one slot',
    afterMs: 300,
    /** How long the loop is watched; run.js sets it per matrix. */
    watchMs: 8000,
    async event({ running, setMode, workers }) {
      const pids = await pidsNow(running);
      const victim = pids[pids.length - 1];
      const steadyPids = pids.slice(0, -1);
      setMode(`crash-loop:${workers - 1}`);
      kill(victim, 'SIGWINCH');
      // Every new pid seen while watching, and when.
      const seen = new Map();
      const startedAt = Date.now();
      while (Date.now() - startedAt < this.watchMs) {
        // Every worker alive, ready or not: a worker of a crash loop may never be ready.
        for (const pid of await running.workerPids({ all: true })) {
          if (!steadyPids.includes(pid) && pid !== victim && !seen.has(pid))
            seen.set(pid, Date.now() - startedAt);
        }
        await sleep(50);
      }
      const times = [...seen.values()];
      const gaps = times.slice(1).map((time, index) => time - times[index]);
      return {
        watchedS: this.watchMs / 1000,
        reforksSeen: seen.size,
        firstGapMs: gaps[0],
        lastGapMs: gaps[gaps.length - 1],
        othersAlive: steadyPids.filter((pid) => isAlive(pid)).length,
      };
    },
  },
  S1: {
    title: 'SIGTERM to the supervisor',
    refusedIsExpected: true,
    // Once the supervisor is gone there is nothing left but refused connections.
    afterMs: 200,
    async event({ running }) {
      const pids = await pidsNow(running);
      const startedAt = Date.now();
      running.signal('SIGTERM');
      const exited = await until(() => !isAlive(running.supervisorPid), 40_000, 20);
      const exitMs = exited ? Date.now() - startedAt : undefined;
      await sleep(200);
      return { exitMs, left: pids.filter((pid) => isAlive(pid)).length };
    },
  },
  S2: {
    title: 'SIGKILL to the supervisor (orphans)',
    failuresAreMoot: true,
    afterMs: 200,
    async event({ running }) {
      const pids = await pidsNow(running);
      running.signal('SIGKILL');
      await sleep(2000);
      return { survivors: pids.filter((pid) => isAlive(pid)).length };
    },
  },
  M1: {
    title: 'memory recycling',
    mode: 'leak:16',
    recycleMB: 150,
    afterMs: 300,
    /** How long the leak is watched; run.js sets it per matrix. */
    eventMs: 12_000,
    async event({ running }) {
      const seen = new Set(await pidsNow(running));
      const first = new Set(seen);
      let peakMiB = 0;
      const startedAt = Date.now();
      while (Date.now() - startedAt < this.eventMs) {
        for (const pid of await pidsNow(running)) {
          seen.add(pid);
          peakMiB = Math.max(peakMiB, rssMiB(pid));
        }
        await sleep(200);
      }
      return {
        recycled: [...seen].filter((pid) => !first.has(pid)).length,
        peakWorkerMiB: Math.round(peakMiB),
      };
    },
  },
};

function rssMiB(pid) {
  try {
    return (
      Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
    );
  } catch {
    return 0;
  }
}

module.exports = { SCENARIOS };
