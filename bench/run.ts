/**
 * Runs the benchmarks: all of them in sequence, or the one named.
 *
 *   npm run bench                      verify, help, lookup, typeahead, append, scale
 *   npx tsx bench/run.ts verify        push answered → agent's DM updated, with an audit relay backlog
 *   npx tsx bench/run.ts help          signed /duo help vs a bare Bolt app that only acks
 *   npx tsx bench/run.ts lookup        /duo lookup alice (ack and card) vs direct Duo Admin API calls
 *   npx tsx bench/run.ts typeahead     directory search over 100,000 users vs a naive query
 *   npx tsx bench/run.ts append        the one-statement keyed audit append vs the append it replaced
 *   npx tsx bench/run.ts scale         1, 2, 3 instances (processes) on one PostgreSQL, then one SIGKILLed; reconciled
 *   npx tsx bench/run.ts users         /duo users over 100,000 indexed users vs a full listing from Duo
 *
 * The database is the embedded PGlite in memory, or a scratch database on TEST_DATABASE_URL / DATABASE_URL's
 * server. Everything listens on 127.0.0.1 only. Each bench prints its own table next to its baseline.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runAuditAppendBench } from './audit-append.js';
import { runHelpPathBench } from './help-path.js';
import { runLookupBench } from './lookup.js';
import { runScaleBench } from './scale.js';
import { environmentLines } from './support.js';
import { runUsersBench } from './users.js';
import { runVerifyBench } from './verify.js';

/** bench/typeahead.ts has no export (it runs on import), so it runs in its own process. */
const TYPEAHEAD_FILE = fileURLToPath(new URL('./typeahead.ts', import.meta.url));
const TYPEAHEAD_TIMEOUT_MS = 10 * 60_000;

function runTypeahead(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', TYPEAHEAD_FILE], { stdio: 'inherit', env: process.env });
    const timer = setTimeout(() => {
      console.error(`typeahead bench still running after ${TYPEAHEAD_TIMEOUT_MS / 60_000} min; stopping it`);
      child.kill('SIGTERM');
    }, TYPEAHEAD_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`typeahead bench exited with ${signal ?? `code ${code}`}`));
    });
  });
}

const BENCHES: Record<string, () => Promise<void>> = {
  verify: runVerifyBench,
  help: runHelpPathBench,
  lookup: runLookupBench,
  typeahead: runTypeahead,
  append: runAuditAppendBench,
  scale: runScaleBench,
  users: runUsersBench,
};

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !Object.hasOwn(BENCHES, n));
  if (unknown.length) {
    console.error(
      `unknown bench: ${unknown.join(', ')}\nusage: npx tsx bench/run.ts [${Object.keys(BENCHES).join('|')}]`,
    );
    return 2;
  }
  console.log('duo-desk benchmarks');
  for (const line of environmentLines()) console.log(`  ${line}`);
  let failed = 0;
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.log(`\n=== ${name} ===`);
    const started = performance.now();
    try {
      await BENCHES[name]!();
      console.log(`=== ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s including teardown ===`);
    } catch (e) {
      failed++;
      console.error(`=== ${name} failed:`, e instanceof Error ? (e.stack ?? e.message) : e);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
