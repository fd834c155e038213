/**
 * graceful's own log lines carry the errors of a failed hook and of an uncaught error during the
 * shutdown. Run in a real process with a secret in its environment and in those errors, through
 * log-shim's console fallback and through a real bunyan logger passed as the `logger` option:
 * the secrets appear in no output, and bunyan's records keep their fields as fields.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures', 'secret-logs.js');
const SECRET = 'hunter2-Zq9-very-secret';
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function run(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string; crashLog: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-graceful-redaction-'));
  dirs.push(dir);
  const crashLog = path.join(dir, 'crash.log');
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env['PATH'],
      DB_PASSWORD: SECRET,
      LASTCALL_CRASH_LOG: crashLog,
      LASTCALL_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 20 s\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 20_000);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const text = fs.existsSync(crashLog) ? fs.readFileSync(crashLog, 'utf8') : '';
  return { code, stdout, stderr, crashLog: text };
}

/** Every secret of the fixture's messages; none may appear in any output. */
const SECRETS = [SECRET, 'open sesame', 'sesame', 'q1w2e3'];

function expectNoSecret(outputs: Record<string, string>): void {
  for (const [where, text] of Object.entries(outputs)) {
    for (const secret of SECRETS) {
      expect({ where, secret, found: text.includes(secret) }).toEqual({
        where,
        secret,
        found: false,
      });
    }
  }
}

it('logs a failed hook and an error during the shutdown through log-shim with no secret in any output', async () => {
  const result = await run({});
  expect(result.stderr).toContain('shutdown hook "db pool" failed; the others go on');
  expect(result.stderr).toContain(
    'uncaughtException during shutdown; reported, the shutdown goes on',
  );
  expect(result.stderr).toContain('postgres://[REDACTED]@db:5432/shop');
  expect(result.crashLog).toContain('"origin":"uncaughtException"');
  expect(result.crashLog).toContain('postgres://[REDACTED]@db:5432/shop');
  expect(result.code).toBe(0);
  expectNoSecret({ stdout: result.stdout, stderr: result.stderr, crashLog: result.crashLog });
});

it('writes bunyan records whose fields stay fields, redacted, when a bunyan logger is the logger option', async () => {
  const result = await run({ LOGGER: 'bunyan' });
  const records = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const hookFailed = records.find(
    (record) => record['msg'] === 'shutdown hook "db pool" failed; the others go on',
  );
  expect(hookFailed).toMatchObject({
    name: 'shop',
    module: 'lastcall:graceful',
    level: 50,
    hook: 'db pool',
    err: { name: 'Error', message: expect.stringContaining('postgres://[REDACTED]@db') as unknown },
  });
  expect(String(hookFailed?.['msg'])).not.toContain('\n');
  expectNoSecret({ stdout: result.stdout, stderr: result.stderr, crashLog: result.crashLog });
});
