#!/usr/bin/env node
// The `duo-desk` command: runs the TypeScript CLI through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/app/cli.ts');
