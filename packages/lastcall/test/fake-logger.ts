import type { Logger } from '@lastcall/log-shim';

/** A Logger of jest mocks, for the CLI's unit tests. */
export function fakeLogger(): Logger {
  const logger: Logger = {
    trace: jest.fn(),
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
    fatal: jest.fn(),
    child: () => logger,
  };
  return logger;
}
