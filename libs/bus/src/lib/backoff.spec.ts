import { backoffDelay, retryWithBackoff } from './backoff';

describe('backoff', () => {
  it('doubles from the first delay up to the cap, jittered ±50 % when given randomness', () => {
    const plain = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, plain))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(1, { ...plain, random: () => 0 })).toBe(100);
    expect(backoffDelay(1, { ...plain, random: () => 0.75 })).toBe(250);
  });

  it('retries retriable errors with the back-off delays, and gives up on the last attempt', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error(`try ${calls}`));
    };
    await expect(
      retryWithBackoff(failing, { initialMs: 100, maxMs: 300, attempts: 4, sleep }),
    ).rejects.toThrow('try 4');
    expect(slept).toEqual([100, 200, 300]);

    calls = 0;
    const once = () => (++calls < 2 ? Promise.reject(new Error('again')) : Promise.resolve(calls));
    await expect(
      retryWithBackoff(once, { initialMs: 1, maxMs: 1, attempts: 5, sleep }),
    ).resolves.toBe(2);
  });

  it('rethrows at once an error that is not retriable', async () => {
    const sleep = jest.fn(async () => undefined);
    const task = jest.fn(() => Promise.reject(new Error('fatal')));
    await expect(
      retryWithBackoff(task, {
        initialMs: 1,
        maxMs: 1,
        attempts: 5,
        retriable: () => false,
        sleep,
      }),
    ).rejects.toThrow('fatal');
    expect(task).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
  });
});
