/**
 * Sharding over processes (`npm run bench:shards`): the default plan's screen stage for a
 * population of SHARD_POPULATION candidates (default 24) of the reference plant's first step,
 * split over 1, 2 and 4 shards, each shard its own process training in its own thread (as a
 * pod would, one core each), all shards at once. Prints, per shard count as soon as it has
 * it, the wall-clock from the first process's start to the last one's exit, the wall-clock
 * per candidate, and the efficiency against one shard (1.0 is linear: N shards, N times the
 * candidates per second). On a machine with C cores, more than C shards cannot gain; the
 * figure then shows what sharding costs beyond that.
 *
 * Beside each, a control: the same count of processes each doing the same fixed work (one
 * environment stepped 4,000 times, no sharding), whose efficiency is the machine's own: what
 * N busy cores give here (shared caches, memory, clocks). Sharding's own cost is the gap.
 *
 * SHARD_COUNTS=1,2,4, SHARD_POPULATION=24, SHARD_STEP=nitration.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRecipe } from '@pipac/recipe';
import { compilePlant } from '@pipac/recipe';
import { StepEnv, defaultPlan, trainShard, type TrainingPlan } from '../src/index';

const root = join(__dirname, '..', '..', '..');
const recipe = loadRecipe(join(root, 'recipes', 'paracetamol.yaml'));
const population = Number(process.env['SHARD_POPULATION'] ?? 24);
const stepId = process.env['SHARD_STEP'] ?? recipe.steps[0]!.id;
const counts = (process.env['SHARD_COUNTS'] ?? '1,2,4').split(',').map(Number);

/** The default plan's screen stage alone, keeping every candidate: equal work however split. */
function screenPlan(): TrainingPlan {
  const plan = defaultPlan(1);
  return { ...plan, population, stages: [{ ...plan.stages[0]!, keep: population }] };
}

/** A shard's process: trains its candidates in this thread, prints its training seconds. */
async function child(index: number, count: number, outDir: string): Promise<void> {
  const started = process.hrtime.bigint();
  await trainShard({
    recipe,
    stepId,
    plan: screenPlan(),
    outDir,
    shard: { index, count },
    workers: 0,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ index, seconds })}\n`);
}

/** The control's process: a fixed amount of environment stepping, its seconds printed. */
function control(): void {
  const env = new StepEnv({ model: compilePlant(recipe), stepId, seed: 1 });
  env.reset();
  const action = new Float32Array(env.actionSize);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 4000; i++) if (env.step(action).done) env.reset();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ index: 0, seconds })}\n`);
}

/**
 * N processes at once (shards, or the control's fixed work each); resolves with the
 * wall-clock to the last exit and each process's own seconds.
 */
async function processes(
  count: number,
  mode: 'shard' | 'control',
): Promise<{ wall: number; training: number[] }> {
  const outDir = mkdtempSync(join(tmpdir(), 'pipac-shards-'));
  const started = process.hrtime.bigint();
  try {
    const training = await Promise.all(
      Array.from({ length: count }, (_, index) => {
        const args = [...process.execArgv, __filename, mode, String(index), String(count), outDir];
        const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        return new Promise<number>((resolve, reject) =>
          proc.on('exit', (code) =>
            code === 0
              ? resolve((JSON.parse(out.trim()) as { seconds: number }).seconds)
              : reject(new Error(`shard ${index}/${count} exited with ${code}`)),
          ),
        );
      }),
    );
    return { wall: Number(process.hrtime.bigint() - started) / 1e9, training };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stderr.write(
    `sharding: the screen stage of ${population} candidates of ${stepId}, ${counts.join(', ')} shards, ` +
      `one thread each, ${availableParallelism()} cores\n`,
  );
  let single: number | undefined;
  let singleControl: number | undefined;
  for (const count of counts) {
    const { wall, training } = await processes(count, 'shard');
    single ??= wall;
    const efficiency = single / (count * wall);
    // Each control process does the one-process work: linear keeps its time.
    const controlTime = Math.max(...(await processes(count, 'control')).training);
    singleControl ??= controlTime;
    console.log(
      `${String(count).padStart(2)} shard(s): wall ${wall.toFixed(1)} s, ${(wall / population).toFixed(2)} s per candidate, ` +
        `shards trained ${Math.min(...training).toFixed(1)}–${Math.max(...training).toFixed(1)} s, ` +
        `efficiency vs 1 shard ${efficiency.toFixed(2)} (${(single / wall).toFixed(2)}× faster); ` +
        `control, the machine's own efficiency: ${(singleControl / controlTime).toFixed(2)}`,
    );
  }
}

if (process.argv[2] === 'control') {
  control();
} else if (process.argv[2] === 'shard') {
  const [index, count, outDir] = process.argv.slice(3);
  child(Number(index), Number(count), outDir!).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
