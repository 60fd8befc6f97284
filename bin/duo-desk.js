#!/usr/bin/env node
// The `duo-desk` command, and what `npm start` runs (`duo-desk start`): always one Node process, no wrapper.
// NODE_ENV=production runs the compiled JavaScript in dist/ (`npm run build`) with plain node; elsewhere the
// TypeScript through tsx's in-process loader (local mode's edit-and-rerun loop), or dist/ when there are no sources.
import { existsSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const start = process.argv[2] === 'start';
if (start) process.argv.splice(2, 1);
const entry = start ? 'main' : 'cli';
const compiled = new URL(`dist/src/app/${entry}.js`, root);
const source = new URL(`src/app/${entry}.ts`, root);

if (process.env.NODE_ENV === 'production' || !existsSync(source)) {
  if (!existsSync(compiled)) {
    process.stderr.write('duo-desk: dist/ is missing: run `npm run build` (production runs the compiled JavaScript)\n');
    process.exit(2);
  }
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
