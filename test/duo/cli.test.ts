import { describe, expect, it } from 'vitest';
import { runSimulatorCli } from '../../src/duo-sim/cli.js';

describe('duo-desk sim arguments', () => {
  it('when an unknown option or a bad port is given, then it refuses before starting', async () => {
    await expect(runSimulatorCli(['--bogus', '1'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runSimulatorCli(['--port', 'abc'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runSimulatorCli(['--port', '70000'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runSimulatorCli(['--port'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
