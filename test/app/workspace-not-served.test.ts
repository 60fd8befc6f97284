import { describe, expect, it } from 'vitest';
import { startHarness } from '../support/harness.js';

const AGENT = 'U234';

/**
 * The local workspace page exists in local mode only. In its own file: on the embedded test database each file's
 * harness starts from a fresh schema, so a second harness beside local mode's would wipe the first one's tables.
 */
describe('the local workspace page outside local mode', () => {
  it('when duo-desk runs for a real workspace, then the workspace page and its API are not served at all', async () => {
    const connected = await startHarness();
    try {
      const base = `http://127.0.0.1:${connected.runtime.slack.port}`;
      for (const path of ['/', '/workspace/page.js', '/workspace/api/directory', `/workspace/api/stream?as=${AGENT}`])
        expect((await fetch(`${base}${path}`)).status).toBe(404);
    } finally {
      await connected.close();
    }
  });
});
