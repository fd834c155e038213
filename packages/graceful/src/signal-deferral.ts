/**
 * Who decides what a signal does in this process. By default each Graceful acts on its
 * `signals` itself. A supervisor's runtime in a worker (the lastcall master's) defers them: a
 * signal sent to a whole process group (systemd's control-group kill, Ctrl-C in a terminal,
 * `kill -- -PGID`) reaches the master and every worker at once, and a worker that began its own
 * shutdown beside the master's drain order would cut requests the master meant to finish.
 */
type SignalDecider = (signal: NodeJS.Signals) => boolean;

const deciders = new Set<SignalDecider>();

/**
 * Hands the signals of this process to someone else while `isDeferred(signal)` returns true: a
 * Graceful then neither starts a shutdown on such a signal nor exits on a second one; the one
 * who deferred them acts (the lastcall master's worker runtime tells the master, which orders the
 * drain). Returns a function that takes them back. For supervisors; apps do not need it.
 */
export function deferSignals(isDeferred: SignalDecider): () => void {
  deciders.add(isDeferred);
  return () => {
    deciders.delete(isDeferred);
  };
}

/** Whether someone who called {@link deferSignals} takes `signal` now. Never throws. */
export function isSignalDeferred(signal: NodeJS.Signals): boolean {
  for (const decide of deciders) {
    try {
      if (decide(signal)) return true;
    } catch {
      // A decider that throws takes nothing: the signal is Graceful's, as without it.
    }
  }
  return false;
}
