import type { Intervention } from '@pipac/control';
import { PolicyFailureLog } from './policy-failure.log';

const failed = (detail: string): Intervention[] => [{ reason: 'policy-failed', detail }];
const moved: Intervention[] = [{ reason: 'move-limit', tag: 'P-1', detail: 'P-1: 9 outside 6..8' }];

describe('PolicyFailureLog', () => {
  it('logs the cause when the policy starts failing, again only when the cause changes, and the recovery', () => {
    const log = new PolicyFailureLog();
    const lines = [
      log.observe(moved, 'sha256:abc'),
      log.observe(failed('the policy failed: model gave no answer within 15000 ms'), 'sha256:abc'),
      log.observe(failed('the policy failed: model gave no answer within 15000 ms'), 'sha256:abc'),
      log.observe(failed('the policy failed: output 2 is NaN'), 'sha256:abc'),
      log.observe(moved, 'sha256:abc'),
      log.observe([], 'sha256:abc'),
    ];
    expect(lines).toEqual([
      undefined,
      'the policy failed: model gave no answer within 15000 ms (model sha256:abc); the fallback holds the step',
      undefined,
      'the policy failed: output 2 is NaN (model sha256:abc); the fallback holds the step',
      'the policy answers again',
      undefined,
    ]);
  });
});
