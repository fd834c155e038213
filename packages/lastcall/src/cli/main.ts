import { parseCommandLine, UsageFailure } from './args';
import { CliFailure, EXIT } from './exit-codes';
import { reload, setRotation, status, stop } from './remote';
import { start } from './start';
import { USAGE } from './usage';

/** What the command line reads and writes; the real process's in `cli.ts`, others in tests. */
export interface CliIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly version: string;
}

/**
 * Runs one command. Resolves with the exit code, or with `undefined` after a successful
 * `start`, whose process then lives on as the master.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.command) {
      case 'help':
        io.out(USAGE[parsed.topic ?? 'main']);
        return EXIT.ok;
      case 'version':
        io.out(io.version);
        return EXIT.ok;
      case 'start':
        await start(parsed, io);
        return undefined;
      case 'reload':
        await reload(parsed, parsed.timeoutMs, io);
        return EXIT.ok;
      case 'stop':
        await stop(parsed, parsed.timeoutMs, io, parsed.force);
        return EXIT.ok;
      case 'status':
        await status(parsed, parsed.json, io);
        return EXIT.ok;
      case 'disable':
      case 'enable':
        await setRotation(parsed, parsed.command, io);
        return EXIT.ok;
    }
  } catch (error) {
    if (error instanceof UsageFailure) {
      io.err(`lastcall: ${error.message}\n`);
      io.err(USAGE[error.topic ?? 'main']);
      return error.exitCode;
    }
    if (error instanceof CliFailure) {
      io.err(`lastcall: ${error.message}`);
      return error.exitCode;
    }
    io.err(`lastcall: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.failed;
  }
}
