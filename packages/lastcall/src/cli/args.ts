import { parseArgs } from 'node:util';
import { MAX_SHUTDOWN_DELAY, MAX_WORKERS } from '@lastcall/master';
import { CliFailure, EXIT } from './exit-codes';
import type { CommandName } from './usage';

/** Which master a command talks to. */
export interface Target {
  readonly name: string | undefined;
  readonly pidFile: string | undefined;
  /** The folder of the pid files (`<dir>/<name>.pid`), when `start` was given one. */
  readonly pidDir: string | undefined;
}

export interface StartArgs extends Target {
  readonly command: 'start';
  readonly script: string;
  readonly scriptArgs: readonly string[];
  readonly workers: number | undefined;
  readonly heartbeatPort: number | undefined;
  readonly heartbeatHost: string | undefined;
  /** `--heartbeat-token`: never printed. */
  readonly heartbeatToken?: string;
  /** ms; `--shutdown-delay`. */
  readonly shutdownDelay?: number;
  /** ms; `--keep-alive-timeout`, `--headers-timeout`. */
  readonly keepAliveTimeout?: number;
  readonly headersTimeout?: number;
  /** `--output`: where the workers' stdout and stderr lines go (the master's `output`). */
  readonly output?: 'inherit' | 'log';
  readonly env: Readonly<Record<string, string>>;
  readonly config: string | undefined;
}

export type ParsedCommand =
  | { readonly command: 'help'; readonly topic: CommandName | undefined }
  | { readonly command: 'version' }
  | StartArgs
  | (Target & { readonly command: 'reload'; readonly timeoutMs: number })
  | (Target & { readonly command: 'stop'; readonly timeoutMs: number; readonly force: boolean })
  | (Target & { readonly command: 'status'; readonly json: boolean })
  | (Target & { readonly command: 'disable' | 'enable' });

const COMMANDS: readonly CommandName[] = ['start', 'reload', 'stop', 'status', 'disable', 'enable'];

const DEFAULT_TIMEOUT_S = { reload: 900, stop: 120 } as const;

const TARGET_OPTIONS = {
  name: { type: 'string' },
  'pid-file': { type: 'string' },
  'pid-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A usage failure: the message, then the command's usage. */
export class UsageFailure extends CliFailure {
  readonly topic: CommandName | undefined;

  constructor(message: string, topic: CommandName | undefined) {
    super(EXIT.usage, message);
    this.topic = topic;
  }
}

/** Reads the command line (without `node` and the script); throws a {@link UsageFailure}. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageFailure('no command given', undefined);
  if (first === '-h' || first === '--help') return { command: 'help', topic: undefined };
  if (first === '-v' || first === '--version') return { command: 'version' };
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { command: 'help', topic: undefined };
    if (!isCommand(topic)) throw new UsageFailure(`unknown command "${topic}"`, undefined);
    return { command: 'help', topic };
  }
  if (!isCommand(first)) throw new UsageFailure(`unknown command "${first}"`, undefined);
  switch (first) {
    case 'start':
      return parseStart(rest);
    case 'status': {
      const values = parse(first, rest, { ...TARGET_OPTIONS, json: { type: 'boolean' } });
      if (values.help === true) return { command: 'help', topic: first };
      return { command: first, ...target(first, values), json: values.json === true };
    }
    case 'disable':
    case 'enable': {
      const values = parse(first, rest, TARGET_OPTIONS);
      if (values.help === true) return { command: 'help', topic: first };
      return { command: first, ...target(first, values) };
    }
    case 'reload':
    case 'stop': {
      const values = parse(first, rest, {
        ...TARGET_OPTIONS,
        timeout: { type: 'string' },
        ...(first === 'stop' ? { force: { type: 'boolean' } } : {}),
      });
      if (values.help === true) return { command: 'help', topic: first };
      const seconds =
        values.timeout === undefined
          ? DEFAULT_TIMEOUT_S[first]
          : positiveNumber(first, '--timeout', String(values.timeout));
      const common = { ...target(first, values), timeoutMs: seconds * 1000 };
      return first === 'stop'
        ? { command: first, ...common, force: values.force === true }
        : { command: first, ...common };
    }
  }
}

function parseStart(argv: readonly string[]): ParsedCommand {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const scriptArgs = separator === -1 ? [] : argv.slice(separator + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...own],
      options: {
        ...TARGET_OPTIONS,
        workers: { type: 'string' },
        'heartbeat-port': { type: 'string' },
        'heartbeat-host': { type: 'string' },
        'heartbeat-token': { type: 'string' },
        'shutdown-delay': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'headers-timeout': { type: 'string' },
        output: { type: 'string' },
        env: { type: 'string', multiple: true },
        config: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageFailure(`start: ${(error as Error).message}`, 'start');
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { command: 'help', topic: 'start' };
  const [script, ...extra] = positionals;
  if (script === undefined) throw new UsageFailure('start: no script given', 'start');
  if (extra.length > 0) {
    throw new UsageFailure(
      `start: unexpected argument "${extra[0] ?? ''}"; pass the script's own arguments after --`,
      'start',
    );
  }
  const port = values['heartbeat-port'];
  return {
    command: 'start',
    script,
    scriptArgs,
    ...target('start', values),
    workers:
      values.workers === undefined
        ? undefined
        : wholeNumber('--workers', values.workers, 1, MAX_WORKERS),
    heartbeatPort: port === undefined ? undefined : wholeNumber('--heartbeat-port', port, 0, 65535),
    heartbeatHost: nonEmpty('start', '--heartbeat-host', values['heartbeat-host']),
    ...optional(
      'heartbeatToken',
      nonEmpty('start', '--heartbeat-token', values['heartbeat-token']),
    ),
    ...optional(
      'shutdownDelay',
      msFlag('--shutdown-delay', values['shutdown-delay'], 0, MAX_SHUTDOWN_DELAY),
    ),
    ...optional(
      'keepAliveTimeout',
      msFlag('--keep-alive-timeout', values['keep-alive-timeout'], 1),
    ),
    ...optional('headersTimeout', msFlag('--headers-timeout', values['headers-timeout'], 1)),
    ...outputFlag(values.output),
    env: readEnvFlags(values.env ?? []),
    config: nonEmpty('start', '--config', values.config),
  };
}

/** `{ [key]: value }`, or nothing for undefined: flags not given stay out of the result. */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** A flag in ms: a whole number from `min` up to what a timer holds. */
function msFlag(
  flag: string,
  text: string | undefined,
  min: number,
  max = 2 ** 31 - 1,
): number | undefined {
  return text === undefined ? undefined : wholeNumber(flag, text, min, max);
}

function outputFlag(value: string | undefined): { output?: 'inherit' | 'log' } {
  if (value === undefined) return {};
  if (value === 'inherit' || value === 'log') return { output: value };
  throw new UsageFailure(
    `start: --output must be inherit or log, got ${JSON.stringify(value)}`,
    'start',
  );
}

type OptionsConfig = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse(
  command: CommandName,
  argv: readonly string[],
  options: OptionsConfig,
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: false,
      strict: true,
    });
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageFailure(`${command}: ${(error as Error).message}`, command);
  }
}

function target(command: CommandName, values: Record<string, unknown>): Target {
  return {
    name: nonEmpty(command, '--name', values['name']),
    pidFile: nonEmpty(command, '--pid-file', values['pid-file']),
    pidDir: nonEmpty(command, '--pid-dir', values['pid-dir']),
  };
}

function nonEmpty(
  command: CommandName | undefined,
  flag: string,
  value: unknown,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new UsageFailure(`${flag} needs a value`, command);
}

function wholeNumber(
  flag: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (/^\d+$/.test(text) && value >= min && value <= max) return value;
  throw new UsageFailure(
    `${flag} must be a whole number from ${String(min)}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${String(max)}`}, got "${text}"`,
    'start',
  );
}

function positiveNumber(command: CommandName, flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() !== '' && Number.isFinite(value) && value > 0) return value;
  throw new UsageFailure(`${flag} must be a number of seconds > 0, got "${text}"`, command);
}

function readEnvFlags(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const key = pair.slice(0, equals);
    if (equals <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UsageFailure(`--env must be KEY=VALUE, got "${pair}"`, 'start');
    }
    env[key] = pair.slice(equals + 1);
  }
  return env;
}

function isCommand(value: string): value is CommandName {
  return (COMMANDS as readonly string[]).includes(value);
}
