/**
 * duo-desk as separate processes, started as production starts it, for the scale benchmark: the compiled JavaScript
 * (`npm run build`, then `node dist/src/app/main.js`, i.e. `npm run start:compiled`) or the TypeScript through tsx's
 * loader (`node --import tsx src/app/main.ts`, what `npm start` runs, without the npm and tsx wrapper processes).
 * Readiness is from spawn to the first 200 of GET /readyz; resident memory is read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface InstanceProcess {
  label: string;
  pid: number;
  port: number;
  eventsUrl: string;
  /** From spawn to the first 200 of /readyz (database and Duo reachable, Slack identity known). */
  readyMs: number;
  /** Resident set size now, in MB (Linux /proc), or NaN where unknown. */
  rssMb(): number;
  log: { lines: number; warnings: number; errors: number; firstError: string | undefined };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (graceful: the job runner stops within its bound); returns how long it took. */
  stop(): Promise<number>;
  kill(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function rssMbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export type Runner = 'compiled' | 'tsx';

/** Compiles src, commands, views and migrations into dist/ (what `npm run build` does). */
export async function build(): Promise<number> {
  const started = performance.now();
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`npm run build failed (tsc exited with ${code})`);
  return performance.now() - started;
}

export async function spawnInstance(
  label: string,
  env: Record<string, string>,
  opts: { runner: Runner; nodeFlags?: string[] },
): Promise<InstanceProcess> {
  const port = await freePort();
  const started = performance.now();
  const entry = opts.runner === 'compiled' ? ['dist/src/app/main.js'] : ['--import', 'tsx', 'src/app/main.ts'];
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...entry], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: InstanceProcess['log'] = { lines: 0, warnings: 0, errors: 0, firstError: undefined };
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      log.lines++;
      if (line.includes('"level":"warn"')) log.warnings++;
      else if (line.includes('"level":"error"') || !line.startsWith('{')) {
        log.errors++;
        log.firstError ??= line.slice(0, 400);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (gone) throw new Error(`${label} exited before it was ready: ${log.firstError ?? 'no output'}`);
    if (performance.now() - started > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`${label} not ready after ${READY_TIMEOUT_MS / 1000} s: ${log.firstError ?? 'no output'}`);
    }
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - started;
  const pid = child.pid!;
  return {
    label,
    pid,
    port,
    eventsUrl: `${base}/slack/events`,
    readyMs,
    rssMb: () => rssMbOf(pid),
    log,
    exited,
    async stop() {
      const t = performance.now();
      if (!gone) child.kill('SIGTERM');
      await exited;
      return performance.now() - t;
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
