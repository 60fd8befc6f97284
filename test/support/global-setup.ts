import type { TestProject } from 'vitest/node';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set when TEST_DATABASE_URL is absent: one in-memory embedded PostgreSQL for the whole run. */
    embeddedDatabaseUrl: string | undefined;
  }
}

let embedded: EmbeddedPostgres | undefined;

/**
 * With TEST_DATABASE_URL, every test file gets its own database on that server (test/support/db.ts).
 * Without it, the suite runs on an embedded PostgreSQL (PGlite) started once here; files run one
 * at a time and each starts from an empty schema.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('embeddedDatabaseUrl', undefined);
  } else {
    embedded = await startEmbeddedPostgres({});
    project.provide('embeddedDatabaseUrl', embedded.url);
  }
  return async () => {
    await embedded?.close();
  };
}
