import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TensorBackend } from '../ppo/tensor-backend';
import type { CandidateTask, StageResult } from './candidate-stage';
import { RlError } from '../rl.error';

interface Pending {
  resolve: (result: StageResult) => void;
  reject: (error: Error) => void;
}

/**
 * A fixed set of worker threads running candidate stages, one task per worker at a time, in
 * the order submitted. Each worker holds its own TensorFlow.js backend.
 */
export class CandidateWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; task: CandidateTask }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<Worker, number>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    size: number,
    private readonly backend: TensorBackend = 'wasm',
  ) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(join(__dirname, 'candidate-worker.js'));
      worker.on('message', (message: { id: number; result?: StageResult; error?: string }) => {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        this.running.delete(worker);
        if (message.error !== undefined)
          pending?.reject(new RlError('CANDIDATE_FAILED', message.error));
        else pending?.resolve(message.result!);
        this.idle.push(worker);
        this.dispatch();
      });
      worker.on('error', (error) =>
        this.fail(worker, new RlError('WORKER_FAILED', error.message, { cause: error })),
      );
      worker.on('exit', (code) => {
        if (code !== 0)
          this.fail(
            worker,
            new RlError('WORKER_EXITED', `a training worker exited with code ${code}`),
          );
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  run(task: CandidateTask): Promise<StageResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, task });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const { id, task } = this.queue.shift()!;
      this.running.set(worker, id);
      worker.postMessage({ id, task, backend: this.backend });
    }
  }

  /** A worker died: fail its task and everything queued (a run must not hang). */
  private fail(worker: Worker, error: Error): void {
    this.failure ??= error;
    const id = this.running.get(worker);
    if (id !== undefined) this.pending.get(id)?.reject(error);
    for (const { id: queued } of this.queue.splice(0)) this.pending.get(queued)?.reject(error);
  }
}
