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

  it('loads the cell for start (the lazily required parts resolve through the path aliases)', async () => {
    const run = promisify(execFile)(process.execPath, [bin, 'start', '--port', 'nope']);
    // Past the loading, the bad port is the only thing wrong: exit 2 naming it.
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--port: "nope" is not a port/) as unknown,
    });
  }, 60_000);

  it('refuses a webhook network that is not one, before starting anything', async () => {
    const run = promisify(execFile)(process.execPath, [
      bin,
      'start',
      '--webhook-allow',
      '127.0.0.0/33',
    ]);
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--webhook-allow: .*127\.0\.0\.0\/33/) as unknown,
    });
  }, 60_000);
});
