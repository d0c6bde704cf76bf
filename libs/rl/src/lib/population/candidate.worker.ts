/**
 * Worker-thread entry of population training: receives CandidateTasks, runs them, posts the
 * results back (a `WorkerPool` thread).
 */
import { parentPort } from 'node:worker_threads';
import { useTensorBackend, type TensorBackend } from '../ppo/tensor-backend';
import { runCandidateStage, type CandidateTask, type StageResult } from './candidate-stage';
import { poolWorkerData, serveTasks } from '../workers/worker-pool';
import { RlError } from '../rl.error';

const port = parentPort;
if (!port) throw new RlError('WORKER_FAILED', 'candidate.worker must run in a worker thread');

const { backend } = poolWorkerData<{ backend: TensorBackend }>();
serveTasks<CandidateTask, StageResult>(port, (task) =>
  useTensorBackend(backend).then(() => runCandidateStage(task)),
);
