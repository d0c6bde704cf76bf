import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const bin = join(__dirname, '..', 'bin', 'pipac.js');

describe('the pipac bin, as a user runs it', () => {
  it('writes only the JSON it was asked for: the OPC UA stack (and its warnings) loads for start alone', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [bin, 'sim', '--format', 'json'],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    expect(() => JSON.parse(stdout) as unknown).not.toThrow();
    expect(`${stdout}${stderr}`).not.toMatch(/NODE-OPCUA/);
  }, 60_000);
});
