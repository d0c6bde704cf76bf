import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState } from './population/state-file';
import { quickPlan, validatePlan } from './population/training-plan';
import { RlError } from './rl.error';

describe('RlError', () => {
  it('names a plan that cannot run, and is not retriable', () => {
    let error: unknown;
    try {
      validatePlan({ ...quickPlan(), stages: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RlError);
    expect(error).toEqual(
      expect.objectContaining({ name: 'RlError', code: 'INVALID_PLAN', retriable: false }),
    );
    expect((error as Error).message).toBe('a plan needs at least one stage');
  });

  it('names a state file whose length does not match its shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-error-'));
    try {
      const path = join(dir, 'state.bin');
      await writeFile(path, Buffer.alloc(8));
      const shape = { policy: [2, 2], value: [2, 1], actions: 2, steps: 0 };
      await expect(readState(path, shape)).rejects.toMatchObject({
        code: 'CORRUPT_STATE',
        message: `${path} is shorter than its shape says`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is retriable only where the same call may succeed later', () => {
    expect(new RlError('SHARDS_UNFINISHED', 'x').retriable).toBe(true);
    expect(new RlError('WORKER_EXITED', 'x').retriable).toBe(true);
    expect(new RlError('CANDIDATE_FAILED', 'x').retriable).toBe(false);
    expect(new RlError('CORRUPT_STATE', 'x').retriable).toBe(false);
  });
});
