'use strict';

// Helpers shared by the scenarios: bounded waits, outcome counting, and the server-side drain
// figures every scenario reports the same way.

const { performance } = require('node:perf_hooks');

/** Extra time the harness allows past a library's own grace before it gives up on the close. */
const HARNESS_SLACK_MS = 2000;
/** How long client outcomes may take to settle after the server reported its close. */
const SETTLE_MS = 1500;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for every promise, at most `boundMs`; resolves true when all settled in time. */
function settleWithin(promises, boundMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), boundMs);
    Promise.allSettled(promises).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Counts outcome statuses: complete, closed (FIN before the response), reset, timeout. */
function countStatuses(outcomes) {
  const counts = { complete: 0, closed: 0, reset: 0, timeout: 0 };
  for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] || 0) + 1;
  return counts;
}

/** The server-side figures of one drain, from the child's 'terminated' message. */
function drainFigures(terminated) {
  const { counters, startedAt, closedAt } = terminated;
  const hasDrainCompletion = counters.lastFinishAt !== null && counters.lastFinishAt >= startedAt;
  return {
    closed: terminated.resolved ? 1 : 0,
    timeToCloseMs: closedAt === null ? null : closedAt - startedAt,
    closeLagMs: closedAt === null || !hasDrainCompletion ? null : closedAt - counters.lastFinishAt,
    connectionCloseShare:
      counters.drainFinished === 0
        ? null
        : (100 * counters.drainConnectionClose) / counters.drainFinished,
    serverAborted: counters.aborted,
    stallMs: terminated.stallMs,
    libraryReport: terminated.libraryReport,
  };
}

/**
 * Client-side view of how idle connections were closed: resets, sockets never closed, and when
 * the last one saw the server's FIN or reset, relative to `sentAt`.
 */
function idleFigures(connections, sentAt) {
  let rst = 0;
  let open = 0;
  let lastClosedAt = sentAt;
  for (const connection of connections) {
    if (connection.isOpen) {
      open += 1;
    } else {
      if (connection.closeKind === 'rst') rst += 1;
      lastClosedAt = Math.max(lastClosedAt, connection.endedAt);
    }
  }
  return {
    idleRst: rst,
    idleOpen: open,
    idleClosedMs: open > 0 ? null : lastClosedAt - sentAt,
  };
}

/** Marks every still-pending response of these connections as timed out, then destroys them. */
function abandon(connections) {
  for (const connection of connections) {
    connection.failPending('timeout');
    connection.destroy();
  }
}

function now() {
  return performance.now();
}

module.exports = {
  HARNESS_SLACK_MS,
  SETTLE_MS,
  sleep,
  settleWithin,
  countStatuses,
  drainFigures,
  idleFigures,
  abandon,
  now,
};
