// `npm run build`, after tsc: the files the compiled code reads at run time beside itself (the local workspace page).
import { cpSync } from 'node:fs';

cpSync('src/app/local-page', 'dist/src/app/local-page', { recursive: true });
