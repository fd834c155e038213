import type { WorkerInfo } from '@lastcall/master';
import { droppedOutputNotes, table } from '../src/cli/remote';

function worker(
  slot: number,
  pid: number,
  droppedOutput?: WorkerInfo['droppedOutput'],
): WorkerInfo {
  return {
    slot,
    port: undefined,
    id: slot + 1,
    pid,
    state: 'ready',
    uptime: 5000,
    restarts: 0,
    rss: undefined,
    requests: 0,
    connections: 0,
    ...(droppedOutput === undefined ? {} : { droppedOutput }),
    lastExit: undefined,
  };
}

describe('droppedOutputNotes', () => {
  it('has one line per worker whose output was dropped, none for the others', () => {
    const workers = [
      worker(0, 4242, { lines: 0, bytes: 0 }),
      worker(1, 4343, { lines: 123_456, bytes: 12_345_600 }),
      worker(2, 4444),
    ];
    expect(droppedOutputNotes(workers)).toEqual([
      "slot 1 (pid 4343): 123456 lines of output dropped (11.8 MiB): the master's stdout or stderr did not keep up",
    ]);
  });

  it('leaves the table as it is', () => {
    const workers = [worker(0, 4242, { lines: 5, bytes: 50 })];
    expect(table(workers)).toBe(
      [
        'slot  pid   state  uptime  restarts  memory  requests  connections',
        '0     4242  ready  5s      0         -       0         0',
      ].join('\n'),
    );
  });
});
