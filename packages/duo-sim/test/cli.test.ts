import { describe, expect, it } from 'vitest';
import { parseSimulatorArgs, SimulatorUsageError } from '../src/cli.js';

describe('simulator command line', () => {
  it('when an unknown option or a bad port is given, then it refuses before starting, naming the option', () => {
    expect(() => parseSimulatorArgs(['--bogus', '1'])).toThrow(new SimulatorUsageError('unknown option --bogus'));
    expect(() => parseSimulatorArgs(['--port', 'abc'])).toThrow(
      new SimulatorUsageError('--port must be a non-negative integer'),
    );
    expect(() => parseSimulatorArgs(['--port', '70000'])).toThrow(
      new SimulatorUsageError('--port must be at most 65535'),
    );
    expect(() => parseSimulatorArgs(['--port'])).toThrow(new SimulatorUsageError('--port needs a value'));
  });

  it('when the options are good, then they become the simulator options', () => {
    const { options, users } = parseSimulatorArgs(['--port=8443', '--ikey', 'DITEST', '--users', '3', '--seed', '9']);
    expect(options).toMatchObject({ port: 8443, host: '127.0.0.1', ikey: 'DITEST' });
    expect(options.directory).toHaveLength(3);
    expect(users).toBe(3);
  });
});
