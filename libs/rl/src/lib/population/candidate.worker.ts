/**
 * Worker-thread entry of population training: receives CandidateTasks, runs them, posts the
 * results back. Loaded through candidate-worker.js, which registers the TypeScript loader.
 */
import { parentPort } from 'node:worker_threads';
import { useTensorBackend, type TensorBackend } from '../ppo/tensor-backend';
import { runCandidateStage, type CandidateTask } from './candidate-stage';
import { RlError } from '../rl.error';

interface Request {
  id: number;
  task: CandidateTask;
  backend: TensorBackend;
}

const port = parentPort;
if (!port) throw new RlError('WORKER_FAILED', 'candidate.worker must run in a worker thread');

port.on('message', (request: Request) => {
  useTensorBackend(request.backend)
    .then(() => runCandidateStage(request.task))
    .then(
      (result) => port.postMessage({ id: request.id, result }),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
});
