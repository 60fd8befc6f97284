/**
 * The simulator on its own (`duo-desk sim` runs this): until SIGINT/SIGTERM.
 *   --port N        listen port (default 0 = random free port)
 *   --host ADDR     listen address (default 127.0.0.1)
 *   --ikey KEY      integration key (default DISIMULATOR000000000)
 *   --skey KEY      secret key (default: random, printed at start)
 *   --users N       use N generated users instead of the demo directory
 *   --seed N        seed for --users (default 1)
 */
import { DEMO_USERNAMES } from './demo-directory.js';
import { generateDirectory } from './generate.js';
import { startDuoSimulator } from './server.js';
import type { DuoSimulatorOptions } from './types.js';

/** A mistake in the command line: the message says what to change. */
export class SimulatorUsageError extends Error {}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new SimulatorUsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) out[arg.slice(2, eq)] = arg.slice(eq + 1);
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new SimulatorUsageError(`${arg} needs a value`);
      out[arg.slice(2)] = value;
      i++;
    }
  }
  return out;
}

function intArg(args: Record<string, string>, name: string, dflt: number): number {
  const raw = args[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new SimulatorUsageError(`--${name} must be a non-negative integer`);
  return n;
}

/** Reads the options; throws SimulatorUsageError before anything starts. */
export function parseSimulatorArgs(argv: string[]): { options: DuoSimulatorOptions; users: number | undefined } {
  const args = parseArgs(argv);
  const known = new Set(['port', 'host', 'ikey', 'skey', 'users', 'seed']);
  for (const k of Object.keys(args)) if (!known.has(k)) throw new SimulatorUsageError(`unknown option --${k}`);
  const port = intArg(args, 'port', 0);
  if (port > 65_535) throw new SimulatorUsageError('--port must be at most 65535');
  const opts: DuoSimulatorOptions = { port, host: args.host ?? '127.0.0.1' };
  if (args.ikey) opts.ikey = args.ikey;
  if (args.skey) opts.skey = args.skey;
  const users = args.users === undefined ? undefined : intArg(args, 'users', 0);
  if (users !== undefined) opts.directory = generateDirectory(users, intArg(args, 'seed', 1));
  return { options: opts, users };
}

/** Runs until SIGINT/SIGTERM; exit status 2 (after saying why) for a bad command line. */
export async function runSimulatorCli(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseSimulatorArgs>;
  try {
    parsed = parseSimulatorArgs(argv);
  } catch (e) {
    if (!(e instanceof SimulatorUsageError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  const { options, users } = parsed;
  const sim = await startDuoSimulator(options);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`Duo simulator listening on ${sim.url}`);
  out(`  DUO_HOST=${sim.url}`);
  out(`  DUO_IKEY=${sim.ikey}`);
  out(`  DUO_SKEY=${sim.skey}`);
  out(
    users === undefined
      ? `  demo users: ${DEMO_USERNAMES.slice(0, 8).join(', ')}, … (${DEMO_USERNAMES.length} in all)`
      : `  ${users} generated users`,
  );
  out(`  control API: ${sim.url}/__sim/pushes, /__sim/outbox, /__sim/requests (see packages/duo-sim/src/server.ts)`);
  out('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
  out('Duo simulator stopped.');
  return 0;
}
