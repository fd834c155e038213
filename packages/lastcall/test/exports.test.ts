import { GracefulExpress } from '@lastcall/express';
import { Graceful } from '@lastcall/graceful';
import { LastDitch } from '@lastcall/last-ditch';
import { setupLogs } from '@lastcall/log-shim';
import { Master } from '@lastcall/master';
import { createTerminator, withShutdown } from '@lastcall/terminator';
import type * as LastcallIndex from '../src/index';
import { lastcall } from '../src/lastcall';

/** The module as `require('lastcall')` hands it to a CommonJS caller: callable, with names. */
type CallableModule = typeof LastcallIndex & typeof lastcall;

// Required, not imported: an `import * as` would copy the module into a namespace object, while
// the point here is the very object index.ts assigns to module.exports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lastcallModule = require('../src/index') as CallableModule;

describe('the lastcall module', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(lastcallModule).sort()).toStrictEqual([
      'CHECK_INTERVAL',
      'CodedError',
      'DEFAULT_LOG_LEVEL',
      'DEFAULT_MAX_STRING_LENGTH',
      'DEFAULT_REQUEST_TIMEOUT',
      'DEFAULT_RETRY_AFTER',
      'DEFAULT_SIGNALS',
      'DISCONNECT_TIMEOUT',
      'ExpressError',
      'GRACEFUL_DEFAULT_TIMEOUT',
      'Graceful',
      'GracefulError',
      'GracefulExpress',
      'LAST_DITCH_DEFAULT_TIMEOUT',
      'LOG_LEVELS',
      'LastDitch',
      'LastDitchError',
      'LastcallError',
      'LogShimError',
      'MASTER_DEFAULTS',
      'MAX_CAUSE_DEPTH',
      'Master',
      'MasterError',
      'REDACTED',
      'RESTART_REQUEST',
      'SECRET_NAME',
      'STOP_REQUEST',
      'TAIL_BYTES',
      'TerminatorError',
      'backoffDelay',
      'countLaunch',
      'crashMetricName',
      'createRedactor',
      'createTerminator',
      'default',
      'describeReason',
      'describeValue',
      'detectLoggerKind',
      'fileTimestamp',
      'getLogger',
      'isInProcessTest',
      'isMasterWorker',
      'lastcall',
      'mainModulePath',
      'metricName',
      'ready',
      'redactArgv',
      'redactPath',
      'reopenLogs',
      'requestMaster',
      'requestRestart',
      'resolveAppName',
      'sendIncrement',
      'serializeError',
      'serializeThrown',
      'setLogger',
      'setupLogs',
      'tellParent',
      'terminateAll',
      'withShutdown',
      'workerSlot',
      'workersFromEnvironment',
    ]);
  });

  it('is callable: the module is lastcall() itself', () => {
    expect(typeof lastcallModule).toBe('function');
    expect(lastcallModule).toBe(lastcall);
    expect(lastcallModule.lastcall).toBe(lastcallModule);
    expect(lastcallModule.default).toBe(lastcallModule);
  });

  it('carries every export as a plain value, not a getter of a namespace', () => {
    for (const name of Object.keys(lastcallModule)) {
      const descriptor = Object.getOwnPropertyDescriptor(lastcallModule, name);
      expect({ name, hasValue: descriptor !== undefined && 'value' in descriptor }).toStrictEqual({
        name,
        hasValue: true,
      });
    }
  });

  it('hands out the very objects of the sibling packages', () => {
    expect(lastcallModule.Master).toBe(Master);
    expect(lastcallModule.Graceful).toBe(Graceful);
    expect(lastcallModule.setupLogs).toBe(setupLogs);
    expect(lastcallModule.GracefulExpress).toBe(GracefulExpress);
    expect(lastcallModule.createTerminator).toBe(createTerminator);
    expect(lastcallModule.LastDitch).toBe(LastDitch);
    expect(lastcallModule.withShutdown).toBe(withShutdown);
    expect(typeof lastcallModule.withShutdown.extend).toBe('function');
  });

  it('still validates its options when called as the module', () => {
    expect(() => lastcallModule({})).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS' }) as Error,
    );
  });
});
