/**
 * pipac agents benchmark (`npm run bench:rl`). Prints what it measured, each row as soon as
 * it has it:
 *
 * 1. Environment steps per second: the bare StepEnv of each step (60 s control cycles,
 *    dt = 2 s) as training runs it, exact, and of the whole plant (see printEnvRates), and
 *    during PPO training (rollouts plus updates, one thread).
 * 2. ONNX inference latency of one observation through onnxruntime-node (OnnxPolicy.act),
 *    p50 and p99 over BENCH_CALLS calls after a warm-up; target p99 ≤ 100 µs.
 * 3. Wall time of the quick population run (32 candidates per step, every step of the
 *    reference plant, all cores), measured; and of the full default run (1,000 candidates),
 *    measured with BENCH_FULL=1 (hours), otherwise estimated from the quick run's measured
 *    time per candidate and stage, and labelled as an estimate.
 *
 * BENCH_QUICK=0 skips the quick run (minutes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxPolicy } from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import {
  PpoTrainer,
  StepEnv,
  defaultPlan,
  exportPolicyToOnnx,
  quickPlan,
  trainShard,
  useTensorBackend,
  type PopulationProgress,
  type TrainingPlan,
} from '../src/index';

const root = join(__dirname, '..', '..', '..');
const recipe = loadRecipe(join(root, 'recipes', 'paracetamol.yaml'));
const model = compilePlant(recipe);
const calls = Number(process.env['BENCH_CALLS'] ?? 20_000);

type EnvVariant = 'training' | 'exact' | 'whole plant';

function envStepsPerSecond(stepId: string, variant: EnvVariant): number {
  const simulation =
    variant === 'whole plant' ? { wholePlant: true } : variant === 'exact' ? { upstreamDt: 2 } : {};
  const env = new StepEnv({ model, stepId, seed: 1, ...simulation });
  env.reset();
  const action = new Float32Array(env.actionSize);
  const steps = 1000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) if (env.step(action).done) env.reset();
  return steps / (Number(process.hrtime.bigint() - started) / 1e9);
}

/**
 * Each step's environment three ways, in alternating rounds, the median of each: as training
 * runs it (what reaches the step, upstream at the 60 s control cycle), exact (what reaches
 * the step, all at dt = 2 s: bit for bit the whole plant's run of the step), the whole plant.
 */
function printEnvRates(): void {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const variants: EnvVariant[] = ['training', 'exact', 'whole plant'];
  for (const step of model.steps) {
    const rates = variants.map((): number[] => []);
    for (const variant of variants) envStepsPerSecond(step.id, variant); // warm-up (JIT)
    for (let round = 0; round < 3; round++)
      variants.forEach((variant, v) => rates[v]!.push(envStepsPerSecond(step.id, variant)));
    const [training, exact, whole] = rates.map(median) as [number, number, number];
    print(
      `env steps/s, ${step.id}: training / exact / whole plant`,
      `${training.toFixed(0)} / ${exact.toFixed(0)} / ${whole.toFixed(0)}`,
      `${(training / whole).toFixed(2)}× / ${(exact / whole).toFixed(2)}× the whole plant`,
    );
  }
}

/** PPO on hydrogenation's environment, 4 of them, [64, 64] networks, minibatches of 256. */
function trainingStepsPerSecond(epochs: number): number {
  const envs = [1, 2, 3, 4].map((seed) => new StepEnv({ model, stepId: 'hydrogenation', seed }));
  const trainer = new PpoTrainer(envs, 1, { epochs });
  trainer.train(1024); // warm-up
  const started = process.hrtime.bigint();
  trainer.train(8192);
  const rate = 8192 / (Number(process.hrtime.bigint() - started) / 1e9);
  trainer.dispose();
  return rate;
}

async function onnxLatency(): Promise<{ p50: number; p99: number; max: number }> {
  const envs = [new StepEnv({ model, stepId: 'nitration', seed: 1 })];
  const trainer = new PpoTrainer(envs, 1, { hidden: [64, 64] });
  const exported = exportPolicyToOnnx(trainer.policyWeights());
  trainer.dispose();
  const policy = await OnnxPolicy.fromBytes(exported.bytes, envs[0]!.observationSize);
  const observation = envs[0]!.reset();
  for (let i = 0; i < 2000; i++) await policy.act(observation);
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const started = process.hrtime.bigint();
    await policy.act(observation);
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  await policy.release();
  samples.sort();
  const at = (q: number) => samples[Math.min(calls - 1, Math.floor(q * calls))]!;
  return { p50: at(0.5), p99: at(0.99), max: samples[calls - 1]! };
}

interface RunTiming {
  seconds: number;
  /** Mean wall seconds per candidate in each stage (per worker). */
  perCandidate: number[];
}

async function population(plan: TrainingPlan, workers: number): Promise<RunTiming> {
  const out = mkdtempSync(join(tmpdir(), 'pipac-bench-train-'));
  const started = Date.now();
  const stageStart = new Map<string, number>();
  const stageSeconds = plan.stages.map(() => 0);
  try {
    for (const step of model.steps) {
      let previous = '';
      await trainShard({
        recipe,
        stepId: step.id,
        plan,
        outDir: out,
        workers,
        onProgress: (p: PopulationProgress) => {
          if (p.stage !== previous) {
            stageStart.set(p.stage, Date.now());
            previous = p.stage;
          }
          if (p.done === p.total) {
            const s = plan.stages.findIndex((x) => x.name === p.stage);
            stageSeconds[s]! += (Date.now() - stageStart.get(p.stage)!) / 1000;
          }
          if (process.stderr.isTTY)
            process.stderr.write(`\r\x1b[K[${p.step}] ${p.stage} ${p.done}/${p.total}`);
          else if (p.done === p.total) process.stderr.write(`[${p.step}] ${p.stage} done\n`);
        },
      });
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  // Candidates per stage over all steps, each stage's wall time spread over the workers.
  let alive = plan.population;
  const perCandidate = plan.stages.map((stage, s) => {
    const candidates = alive * model.steps.length;
    alive = stage.keep;
    return (stageSeconds[s]! * workers) / candidates;
  });
  return { seconds: (Date.now() - started) / 1000, perCandidate };
}

/** Wall time of a plan from measured seconds per candidate-stage (which scale with the stage's steps). */
function estimate(
  plan: TrainingPlan,
  measured: TrainingPlan,
  perCandidate: number[],
  workers: number,
): number {
  let alive = plan.population;
  let total = 0;
  plan.stages.forEach((stage, s) => {
    const reference = measured.stages[s]!;
    const scale =
      reference.steps > 0 ? stage.steps / reference.steps : stage.episodes / reference.episodes;
    total += (alive * model.steps.length * perCandidate[s]! * scale) / workers;
    alive = stage.keep;
  });
  return total;
}

function hms(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${Math.round(seconds % 60)} s`;
}

/** Targets: environment steps per second per core while training; the full plan's wall time on 2 cores. */
const TARGET_STEPS_PER_CORE = 10_000;
const TARGET_FULL_MINUTES = 60;

const met = (ok: boolean): string => (ok ? 'met' : 'NOT MET');

/** Prints one row as soon as it is measured (a long run cut off still shows what it had). */
function print(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(66)}  ${value.padStart(22)}  ${note}`);
}

async function main(): Promise<void> {
  await useTensorBackend('wasm');
  const workers = availableParallelism();
  process.stderr.write(`pipac agents benchmark (Node ${process.version}, ${workers} cores)\n`);
  printEnvRates();
  const textbook = trainingStepsPerSecond(10);
  print('environment steps/s during PPO training (1 thread), 10 epochs', textbook.toFixed(0));
  const training = trainingStepsPerSecond(5);
  print(
    "environment steps/s during PPO training (1 thread), 5 epochs (the population's)",
    training.toFixed(0),
    `≥ ${TARGET_STEPS_PER_CORE.toLocaleString('en')} per core: ${met(training >= TARGET_STEPS_PER_CORE)}`,
  );
  const latency = await onnxLatency();
  print(
    `ONNX inference, one observation (${calls} calls): p50 / p99 / max, µs`,
    `${latency.p50.toFixed(1)} / ${latency.p99.toFixed(1)} / ${latency.max.toFixed(0)}`,
    `p99 ≤ 100 µs: ${met(latency.p99 <= 100)}`,
  );
  if (process.env['BENCH_QUICK'] === '0') return;
  const quick = quickPlan(1);
  const run = await population(quick, workers);
  print(`quick run, 3 steps × 32 candidates, ${workers} workers`, hms(run.seconds), 'measured');
  const full = defaultPlan(1);
  if (process.env['BENCH_FULL'] === '1') {
    const measured = await population(full, workers);
    print(
      'full default run, 3 steps × 1,000 candidates',
      hms(measured.seconds),
      `measured; ≤ ${TARGET_FULL_MINUTES} min: ${met(measured.seconds <= TARGET_FULL_MINUTES * 60)}`,
    );
  } else {
    print(
      'full default run, 3 steps × 1,000 candidates',
      hms(estimate(full, quick, run.perCandidate, workers)),
      `ESTIMATE from the quick run (BENCH_FULL=1 measures it); target ≤ ${TARGET_FULL_MINUTES} min`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
