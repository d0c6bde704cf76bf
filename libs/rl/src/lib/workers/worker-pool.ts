import { join } from 'node:path';
import { Worker, workerData } from 'node:worker_threads';
import { RlError, type RlErrorCode } from '../rl.error';

interface Pending<R> {
  resolve: (result: R) => void;
  reject: (error: Error) => void;
}

/** What a worker thread posts back for a task. */
export interface WorkerReply<R> {
  id: number;
  result?: R;
  /** The task's error (stack or message): the task failed, the worker lives on. */
  error?: string;
}

export interface WorkerPoolOptions {
  /** Passed to every worker thread once (`workerData`): what its tasks share. */
  workerData?: unknown;
  /** The error code of a task that failed in its worker. */
  failure: RlErrorCode;
  /** What the workers do, for messages: 'a training worker'. */
  label: string;
}

/**
 * A fixed set of worker threads, one task per worker at a time, in the order submitted. A task
 * that throws fails alone; a worker that dies fails its task and everything queued (a run
 * must not hang). Used by population training (candidates) and the evaluation (closed loops).
 */
export class WorkerPool<T, R> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; task: T }[] = [];
  private readonly pending = new Map<number, Pending<R>>();
  private readonly running = new Map<Worker, number>();
  private nextId = 0;
  private failure: Error | undefined;

  /** `module`: the worker's TypeScript entry (absolute path), which calls `serveTasks`. */
  constructor(
    module: string,
    size: number,
    private readonly options: WorkerPoolOptions,
  ) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(join(__dirname, 'typescript-worker.js'), {
        workerData: { module, data: options.workerData },
      });
      worker.on('message', (message: WorkerReply<R>) => this.settle(worker, message));
      worker.on('error', (error) =>
        this.fail(worker, new RlError('WORKER_FAILED', error.message, { cause: error })),
      );
      worker.on('exit', (code) => {
        if (code !== 0)
          this.fail(
            worker,
            new RlError('WORKER_EXITED', `${options.label} exited with code ${code}`),
          );
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  run(task: T): Promise<R> {
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

  private settle(worker: Worker, message: WorkerReply<R>): void {
    const pending = this.pending.get(message.id);
    this.pending.delete(message.id);
    this.running.delete(worker);
    if (message.error !== undefined)
      pending?.reject(new RlError(this.options.failure, message.error));
    else pending?.resolve(message.result!);
    this.idle.push(worker);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const { id, task } = this.queue.shift()!;
      this.running.set(worker, id);
      worker.postMessage({ id, task });
    }
  }

  /** A worker died: fail its task and everything queued. */
  private fail(worker: Worker, error: Error): void {
    this.failure ??= error;
    const id = this.running.get(worker);
    if (id !== undefined) this.pending.get(id)?.reject(error);
    for (const { id: queued } of this.queue.splice(0)) this.pending.get(queued)?.reject(error);
  }
}

/**
 * The worker side: answers each `{ id, task }` with `handle(task)`'s result or its error. Tasks
 * run one at a time (the pool sends a worker one task at a time).
 */
export function serveTasks<T, R>(
  port: {
    on(event: 'message', listener: (request: { id: number; task: T }) => void): unknown;
    postMessage(reply: WorkerReply<R>): void;
  },
  handle: (task: T) => Promise<R>,
): void {
  port.on('message', (request) => {
    handle(request.task).then(
      (result) => port.postMessage({ id: request.id, result }),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
  });
}

/** In a pool's worker thread: the `workerData` its pool was given. */
export function poolWorkerData<D>(): D {
  return (workerData as { data: D }).data;
}
