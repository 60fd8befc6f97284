import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

/**
 * The container and the production install, checked without Docker (these machines cannot build images): the
 * Dockerfile is parsed and its promises asserted (Debian has no hadolint), the compose file and its env file are
 * checked against the configuration, and the compiled app is run with production dependencies only.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Array<{ op: string; args: string }>;
}

/** Dockerfile → stages, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f![1]!, name: f![2], instructions: [] });
    } else {
      if (!stages.length) throw new Error(`${op} before FROM`);
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return stages;
}

describe('the Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const final = stages.at(-1)!;
  const of = (op: string) => final.instructions.filter((i) => i.op === op);

  it('when parsed, then it is multi-stage and the default (last) stage starts from Node 22', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.from).toMatch(/^node:22(\.|-|$)/);
    for (const s of stages) expect(s.from === 'build' || /^node:22/.test(s.from)).toBe(true);
  });

  it('when the final stage installs, then it runs npm ci --omit=dev and removes the linked fakes', () => {
    const runs = of('RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /rm -rf node_modules\/@duo-desk/.test(r))).toBe(true);
    expect(runs.some((r) => /npm ci(?!.*--omit=dev)/.test(r))).toBe(false);
  });

  it('when the final stage copies files, then no sources, tests or fake sources go in (only dist from the build stage)', () => {
    const copies = of('COPY').map((i) => i.args);
    for (const c of copies) expect(c).not.toMatch(/(^|\s)(src|test|bench|packages)(\s|\/?\s)|packages\/[^ ]+\/src/);
    expect(copies).toContain('--from=build /app/dist ./dist');
  });

  it('when it runs, then as a non-root user, with node itself as the process (no npm, no shell) and a /healthz check', () => {
    const user = of('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const cmd = JSON.parse(of('CMD').at(-1)!.args) as string[];
    expect(cmd[0]).toBe('node');
    expect(
      of('ENV')
        .map((e) => e.args)
        .join(' '),
    ).toContain('NODE_ENV=production');
    expect(of('HEALTHCHECK').at(-1)?.args).toContain('/healthz');
  });

  it('when the context is sent, then .dockerignore keeps out secrets, node_modules and the git history', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.env', '.env.*', 'node_modules', '.git', '.data', 'dist']) expect(ignored).toContain(p);
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(root, 'compose.yaml'), 'utf8')) as {
    services: Record<string, { env_file?: string; environment?: Record<string, string>; build?: string }>;
  };
  it('when read, then it runs PostgreSQL and duo-desk in HTTP mode with secrets from duo-desk.env, which git ignores', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['duo-desk', 'postgres']);
    const app = compose.services['duo-desk']!;
    expect(app.env_file).toBe('duo-desk.env');
    expect(app.environment?.NODE_ENV).toBe('production');
    expect(app.environment).not.toHaveProperty('SLACK_APP_TOKEN');
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('duo-desk.env');
    expect(existsSync(join(root, 'docker/postgres-init.sh'))).toBe(true);
  });

  it('when duo-desk.env.example is filled in, then duo-desk accepts it as a production HTTP configuration', () => {
    const env: Record<string, string> = { NODE_ENV: 'production' };
    for (const line of readFileSync(join(root, 'duo-desk.env.example'), 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) env[m[1]!] = m[2]!;
    }
    const key = Buffer.alloc(32, 7).toString('base64');
    Object.assign(env, {
      SLACK_SIGNING_SECRET: 'signing-secret',
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      DUO_IKEY: 'DIXXXXXXXXXXXXXXXXXX',
      DUO_SKEY: 's'.repeat(40),
      DUO_DESK_ENCRYPTION_KEY: key,
      DUO_DESK_AUDIT_KEY: key,
    });
    const config = loadConfig(env);
    expect(config.slackMode).toBe('http');
    expect(config.migrationDatabaseUrl).toContain('duodesk_owner');
    expect(new URL(config.databaseUrl!).username).toBe('duodesk_app');
  });
});

describe('the production install', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'duo-desk-prod-'));
    // Only the packages `npm ci --omit=dev` would install, at the top of node_modules (the rest stays invisible).
    const parseable = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: root,
      encoding: 'utf8',
    });
    mkdirSync(join(dir, 'node_modules/@x'), { recursive: true });
    const top = new Set<string>();
    for (const p of parseable.split('\n').filter(Boolean)) {
      const rel = relative(root, p);
      const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(rel);
      if (m && !m[1]!.startsWith('@duo-desk/')) top.add(m[1]!);
    }
    for (const name of top) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
    }
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist'), '--sourceMap', 'false'], {
      cwd: root,
    });
    for (const f of ['bin', 'package.json', 'manifest.yml']) cpSync(join(root, f), join(dir, f), { recursive: true });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const prodEnv = () => ({ PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOME: dir });

  it('when the production dependencies are listed, then tsx, the fakes and the test tools are not among them', () => {
    const names = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
    for (const dev of ['tsx', 'vitest', 'typescript', 'yaml', 'dependency-cruiser', 'playwright-core'])
      expect(names).not.toMatch(new RegExp(`node_modules/${dev}\\n`));
    expect(names).toContain('node_modules/prom-client');
  });

  it('when duo-desk --version runs with plain node and production dependencies only, then it prints the version', async () => {
    const { stdout } = await run('node', ['bin/duo-desk.js', '--version'], { cwd: dir, env: prodEnv() });
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(stdout.trim()).toBe(`duo-desk ${version}`);
  });

  it('when duo-desk doctor --json runs there unconfigured, then it exits 1 with a report naming what is missing', async () => {
    const r = await run('node', ['bin/duo-desk.js', 'doctor', '--json'], { cwd: dir, env: prodEnv() }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; fix?: string }> };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'slack.token')?.fix).toContain('SLACK_BOT_TOKEN');
    expect(report.checks.find((c) => c.name === 'duo.credentials')?.ok).toBe(false);
  });

  it('when the server modules load under plain node, then every import resolves (compiled migrations and listeners too)', async () => {
    const script =
      "await import('./dist/src/app/runtime.js'); const m = await import('./dist/migrations/index.js'); console.log(m.migrationsList.length)";
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: dir, env: prodEnv() });
    expect(Number(stdout.trim())).toBeGreaterThan(5);
  });

  it('when npm start runs the compiled app in production without Slack variables, then it refuses naming SLACK_BOT_TOKEN (no local mode)', async () => {
    const r = await run('node', ['bin/duo-desk.js', 'start'], {
      cwd: dir,
      env: { ...prodEnv(), DUO_DESK_DATA_DIR: '/nonexistent/x' },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SLACK_BOT_TOKEN');
    expect(r.stdout).not.toContain('local mode');
  });

  it('when npm start runs in production without dist/, then the launcher says to build (and never falls back to tsx)', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'duo-desk-nodist-'));
    try {
      cpSync(join(root, 'bin'), join(bare, 'bin'), { recursive: true });
      const r = await run('node', ['bin/duo-desk.js', 'start'], { cwd: bare, env: prodEnv() }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('npm run build');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
