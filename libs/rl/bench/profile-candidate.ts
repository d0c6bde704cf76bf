/**
 * Where one candidate's training time goes (`npm run profile:rl`).
 *
 * Runs candidate 0 of the default plan through one stage (default 'screen': 4,096 training
 * steps and its 4 scoring episodes) for every step of the reference plant, in this thread,
 * under V8's sampling CPU profiler (node:inspector, every 250 µs), and attributes every sample by
 * its call stack:
 *
 * - phase: rollout (PpoTrainer.update collecting a batch), PPO update (optimise: forward,
 *   backward, Adam), scoring episodes, or set-up;
 * - part: the twin's simulation, the safety shield, the observation, the reward and the env's
 *   own code, episode resets (scenario and warm-up), the policy's forward pass, TensorFlow.js
 *   (its WebAssembly kernels and its JavaScript: tape, dispatch, tensors), the trainer's own
 *   bookkeeping (sampling, buffers, GAE, minibatches), garbage collection.
 *
 * Then the worker messaging: a screen-stage task twice through a one-thread WorkerPool, wall
 * time against the worker's own compute time, and the bytes of a task and its result.
 *
 * PROFILE_STAGE=train profiles the 'train' stage instead (61,440 steps per step, minutes);
 * PROFILE_STEPS=nitration,… limits the steps; PROFILE_OUT=file.cpuprofile writes the last
 * profile for Chrome DevTools.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import type { Profiler } from 'node:inspector';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import {
  defaultPlan,
  runCandidateStage,
  sampleCandidate,
  useTensorBackend,
  type CandidateTask,
  type StageResult,
} from '../src/index';
import { WorkerPool } from '../src/lib/workers/worker-pool';

const root = join(__dirname, '..', '..', '..');
const recipe = loadRecipe(join(root, 'recipes', 'paracetamol.yaml'));
const model = compilePlant(recipe);
const plan = defaultPlan(1);
const stageName = process.env['PROFILE_STAGE'] ?? 'screen';
const stageIndex = plan.stages.findIndex((s) => s.name === stageName);
/** s: StepEnv's control cycle, one environment step. */
const CYCLE = 60;
const steps = (process.env['PROFILE_STEPS'] ?? model.steps.map((s) => s.id).join(',')).split(',');

interface Frame {
  name: string;
  url: string;
}

/** A sample's stack, leaf first. */
type Stack = Frame[];

const has = (stack: Stack, file: string, ...names: string[]): boolean =>
  stack.some((f) => f.url.endsWith(file) && (names.length === 0 || names.includes(f.name)));

function phaseOf(stack: Stack): string {
  // V8 puts these at the root: no phase can be told.
  if (stack[0]!.name === '(garbage collector)') return 'garbage collection';
  if (stack[0]!.name === '(program)' || stack[0]!.name === '(idle)') return 'V8 (program, idle)';
  if (has(stack, 'candidate-stage.ts', 'scoreEpisodes')) return 'scoring episodes';
  if (has(stack, 'ppo-trainer.ts', 'optimise')) return 'PPO update';
  if (has(stack, 'ppo-trainer.ts', 'update')) return 'rollout';
  return 'set-up';
}

function partOf(stack: Stack): string {
  const leaf = stack[0]!;
  if (leaf.name.startsWith('(')) return leaf.name;
  if (has(stack, 'step-env.ts', 'reset')) return 'episode reset (scenario, warm-up)';
  if (has(stack, 'ppo-trainer.ts', 'forward', 'act')) return 'policy forward (TensorFlow.js)';
  if (leaf.url.startsWith('wasm://')) return 'TensorFlow.js wasm kernels';
  if (leaf.url.includes('@tensorflow')) return 'TensorFlow.js JavaScript';
  for (const f of stack) {
    if (f.url.includes('/libs/twin/')) return 'twin simulation';
    if (f.url.endsWith('safety-shield.ts')) return 'safety shield';
    if (f.url.endsWith('step-observer.ts') || f.url.endsWith('step-readings.ts'))
      return 'observation (readings, observer)';
    if (f.url.endsWith('step-env.ts')) return 'reward and env bookkeeping';
    if (f.url.endsWith('ppo-trainer.ts')) return 'trainer bookkeeping (sampling, GAE, minibatches)';
  }
  return 'other';
}

/** Seconds per (phase, part) and per phase, from a CPU profile. */
function attribute(profile: Profiler.Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map<number, string>();
  const keyOf = (id: number): string => {
    const cached = stacks.get(id);
    if (cached) return cached;
    const stack: Stack = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      stack.push({ name: functionName, url });
    }
    const key = `${phaseOf(stack)}\t${partOf(stack)}`;
    stacks.set(id, key);
    return key;
  };
  const seconds = new Map<string, number>();
  profile.samples!.forEach((id, i) => {
    const key = keyOf(id);
    seconds.set(key, (seconds.get(key) ?? 0) + profile.timeDeltas![i]! / 1e6);
  });
  return seconds;
}

function task(stepId: string): CandidateTask {
  return { recipe, stepId, plan, stageIndex, candidate: sampleCandidate(plan.seed, 0) };
}

async function profileInThread(
  session: Session,
): Promise<{ seconds: Map<string, number>; wall: number; envSteps: number }> {
  const total = new Map<string, number>();
  let wall = 0;
  let envSteps = 0;
  const stage = plan.stages[stageIndex]!;
  for (const stepId of steps) {
    // The train stage starts from the screen stage's parameters, as in a run.
    const previous =
      stageIndex > 0
        ? runCandidateStage({ ...task(stepId), stageIndex: 0 }, undefined, model)
        : undefined;
    await session.post('Profiler.start');
    const started = process.hrtime.bigint();
    const result = runCandidateStage(
      { ...task(stepId), ...(previous ? { state: previous.state } : {}) },
      undefined,
      model,
    );
    wall += Number(process.hrtime.bigint() - started) / 1e9;
    const { profile } = await session.post('Profiler.stop');
    envSteps += result.trainedSteps - (previous?.trainedSteps ?? 0);
    envSteps += stage.episodes * Math.round(plan.episodeSeconds / CYCLE);
    for (const [key, s] of attribute(profile)) total.set(key, (total.get(key) ?? 0) + s);
    if (process.env['PROFILE_OUT'])
      writeFileSync(process.env['PROFILE_OUT'], JSON.stringify(profile));
    process.stderr.write(`profiled ${stepId} ${stageName}: ${result.seconds.toFixed(1)} s\n`);
  }
  return { seconds: total, wall, envSteps };
}

async function messaging(): Promise<string[]> {
  const pool = new WorkerPool<CandidateTask, StageResult>(
    join(__dirname, '..', 'src', 'lib', 'population', 'candidate.worker.ts'),
    1,
    { workerData: { backend: 'wasm' }, failure: 'CANDIDATE_FAILED', label: 'a training worker' },
  );
  const lines: string[] = [];
  try {
    for (const [i, stepId] of [steps[0]!, steps[0]!].entries()) {
      // The screen stage whatever was profiled: the messages do not grow with the stage.
      const t = { ...task(stepId), stageIndex: 0 };
      const started = process.hrtime.bigint();
      const result = await pool.run(t);
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      lines.push(
        `${i === 0 ? 'first task (worker start-up)' : 'second task'}: wall ${wall.toFixed(2)} s, ` +
          `in the worker ${result.seconds.toFixed(2)} s, messaging and start ${(wall - result.seconds).toFixed(3)} s; ` +
          `task ${(serialize(t).length / 1024).toFixed(0)} KiB, result ${(serialize(result).length / 1024).toFixed(0)} KiB`,
      );
    }
  } finally {
    await pool.close();
  }
  return lines;
}

function table(seconds: Map<string, number>, wall: number): string[] {
  const total = [...seconds.values()].reduce((a, b) => a + b, 0);
  const phases = new Map<string, number>();
  for (const [key, s] of seconds) {
    const phase = key.split('\t')[0]!;
    phases.set(phase, (phases.get(phase) ?? 0) + s);
  }
  const lines = [`sampled ${total.toFixed(2)} s of ${wall.toFixed(2)} s wall`, ''];
  const rows = [...seconds].sort((a, b) => b[1] - a[1]);
  for (const [phase, ps] of [...phases].sort((a, b) => b[1] - a[1])) {
    lines.push(
      `${phase.padEnd(52)} ${ps.toFixed(2).padStart(7)} s  ${((100 * ps) / total).toFixed(1).padStart(5)} %`,
    );
    for (const [key, s] of rows) {
      const [p, part] = key.split('\t');
      if (p !== phase || s / total < 0.001) continue;
      lines.push(
        `  ${part!.padEnd(50)} ${s.toFixed(2).padStart(7)} s  ${((100 * s) / total).toFixed(1).padStart(5)} %`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  await useTensorBackend('wasm');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  const stage = plan.stages[stageIndex]!;
  process.stderr.write(
    `profiling candidate 0, stage ${stageName} (${stage.steps} training steps, ${stage.episodes} scoring episodes), steps ${steps.join(', ')}\n`,
  );
  const { seconds, wall, envSteps } = await profileInThread(session);
  session.disconnect();
  console.log(
    `one candidate, stage ${stageName}, ${steps.length} step(s), Node ${process.version}`,
  );
  for (const line of table(seconds, wall)) console.log(line);
  console.log(
    `\nenvironment steps (training and scoring): ${envSteps}, ${(envSteps / wall).toFixed(0)} per second of wall time`,
  );
  console.log('\nworker messaging (one-thread WorkerPool, the screen stage):');
  for (const line of await messaging()) console.log(`  ${line}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
