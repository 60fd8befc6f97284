import { existsSync, readFileSync } from 'node:fs';

/**
 * The installation's folder (where package.json and manifest.yml are), the same whether this runs from src/ under
 * tsx or compiled from dist/src/.
 */
export function packageRoot(): URL {
  let dir = new URL('./', import.meta.url);
  for (let i = 0; i < 6; i++) {
    const pkg = new URL('package.json', dir);
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'duo-desk') return dir;
    dir = new URL('../', dir);
  }
  throw new Error('duo-desk: package.json not found above the program');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as { version: string }).version;
}
