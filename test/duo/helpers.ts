import type { DuoSimulator } from '@duo-desk/duo-sim';
import { DuoAdminClient, type DuoAdminClientOptions } from '../../src/duo/client.js';

export interface TestClient {
  client: DuoAdminClient;
  sleeps: number[];
}

/** A client pointed at the simulator whose sleeps are recorded instead of waited. */
export function clientFor(sim: DuoSimulator, overrides: Partial<DuoAdminClientOptions> = {}): TestClient {
  const sleeps: number[] = [];
  const client = new DuoAdminClient({
    ikey: sim.ikey,
    skey: sim.skey,
    host: sim.url,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, sleeps };
}

/** Resolves with the rejection of `p` (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}
