/**
 * Worker-thread entry of a parallel evaluation (a `WorkerPool` thread): compiles the recipe,
 * loads the trained policies and sets up what the runs share once, then runs closed loops.
 */
import { parentPort } from 'node:worker_threads';
import { loadPlantPolicies } from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import type { ClosedLoopResult } from './closed-loop';
import { EvaluationRunner, type EvaluationTask } from './evaluation-runner';
import type { EvaluationSource } from './evaluation';
import { poolWorkerData, serveTasks } from '../workers/worker-pool';
import { RlError } from '../rl.error';

const port = parentPort;
if (!port) throw new RlError('WORKER_FAILED', 'evaluation.worker must run in a worker thread');

const source = poolWorkerData<EvaluationSource>();
const runner = (async () => {
  const model = compilePlant(loadRecipe(source.recipe));
  const policies = source.controllers.includes('agent')
    ? await loadPlantPolicies(source.models!, model)
    : {};
  return EvaluationRunner.create(model, source.controllers, policies);
})();

serveTasks<EvaluationTask, ClosedLoopResult>(port, async (task) => (await runner).run(task));
