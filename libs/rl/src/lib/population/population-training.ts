import { mkdir, readFile, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { StepSpace } from '@pipac/control';
import { compilePlant, type Recipe } from '@pipac/recipe';
import { TWIN_VERSION } from '@pipac/twin';
import { useTensorBackend, type TensorBackend } from '../ppo/tensor-backend';
import { exportPolicyToOnnx } from '../export/onnx-export';
import { sampleCandidate, type CandidateConfig } from './candidate';
import { runCandidateStage, type CandidateTask, type StageResult } from './candidate-stage';
import { readState, writeState, type StateShape } from './state-file';
import { validatePlan, type TrainingPlan } from './training-plan';
import { selectionFunnel, type FunnelStage } from './funnel';
import { WorkerPool } from '../workers/worker-pool';
import { RlError } from '../rl.error';

export interface Shard {
  index: number;
  count: number;
}

export interface PopulationProgress {
  step: string;
  stage: string;
  done: number;
  total: number;
  /** The candidate just finished (or found on disk, `resumed`). */
  candidate: number;
  score: number;
  best: number;
  resumed: boolean;
}

export interface TrainShardOptions {
  recipe: Recipe;
  stepId: string;
  plan: TrainingPlan;
  /** Work directory: one folder per step, per stage, per candidate. */
  outDir: string;
  shard?: Shard;
  /** Worker threads; 0 runs in this thread. @default 1 */
  workers?: number;
  backend?: TensorBackend;
  onProgress?: (progress: PopulationProgress) => void;
  /** Milliseconds, for the shard's wall time (see `WallTime`). @default Date.now */
  clock?: () => number;
}

/**
 * The wall time a shard's training took, kept beside its candidates: each run (session) that
 * trains any of it adds its time up to its last finished candidate, so a run stopped and
 * resumed later reports the sum of its sessions, not the time since it was first started.
 */
interface WallTime {
  seconds: number;
  sessions: number;
}

/** A candidate's record in a stage (the weights are beside it, in a .bin file). */
interface CandidateRecord {
  candidate: CandidateConfig;
  result: Omit<StageResult, 'state'>;
  shape: StateShape;
}

export interface ShardSummary {
  shard: Shard;
  /** Ids surviving the last stage in this shard, best first. */
  survivors: number[];
}

/** Candidates of a shard: every id ≡ index (mod count). */
export function shardCandidates(population: number, shard: Shard): number[] {
  const ids: number[] = [];
  for (let id = shard.index; id < population; id += shard.count) ids.push(id);
  return ids;
}

/** How many of a shard's candidates a stage keeps: its share of the stage's `keep`, at least one. */
export function shardKeep(keep: number, population: number, shardSize: number): number {
  return Math.max(1, Math.min(shardSize, Math.round((keep * shardSize) / population)));
}

/**
 * Trains one shard of the population through every stage of the plan. Resumable: each
 * candidate's result is written when it finishes, and a rerun with the same plan picks up
 * from there. Shards share nothing but the plan and the output folder, so they can run as
 * separate processes or Kubernetes pods; `mergeShards` then ranks the survivors of all.
 */
export async function trainShard(options: TrainShardOptions): Promise<ShardSummary> {
  const { recipe, stepId, plan } = options;
  validatePlan(plan);
  const shard = options.shard ?? { index: 0, count: 1 };
  if (!(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count))
    throw new RlError('INVALID_PLAN', `shard ${shard.index}/${shard.count} does not exist`);
  const dir = join(options.outDir, stepId);
  await mkdir(dir, { recursive: true });
  await pinPlan(dir, plan);
  const workers = options.workers ?? 1;
  // Each worker holds its own TensorFlow.js backend.
  const pool =
    workers > 0
      ? new WorkerPool<CandidateTask, StageResult>(
          join(__dirname, 'candidate.worker.ts'),
          workers,
          {
            workerData: { backend: options.backend ?? 'wasm' },
            failure: 'CANDIDATE_FAILED',
            label: 'a training worker',
          },
        )
      : undefined;
  if (!pool) await useTensorBackend(options.backend ?? 'wasm');
  const model = compilePlant(recipe);
  const recordWallTime = await wallTimeRecorder(
    join(dir, `wall-shard-${shard.index}-of-${shard.count}.json`),
    options.clock ?? Date.now,
  );
  try {
    let alive = shardCandidates(plan.population, shard);
    const shardSize = alive.length;
    for (let s = 0; s < plan.stages.length; s++) {
      const stage = plan.stages[s]!;
      const stageDir = join(dir, `stage-${s}-${stage.name}`);
      await mkdir(stageDir, { recursive: true });
      let best = Number.NEGATIVE_INFINITY;
      let done = 0;
      const report = (record: CandidateRecord, resumed: boolean) => {
        best = Math.max(best, record.result.score);
        options.onProgress?.({
          step: stepId,
          stage: stage.name,
          done: ++done,
          total: alive.length,
          candidate: record.candidate.id,
          score: record.result.score,
          best,
          resumed,
        });
      };
      const records = await Promise.all(
        alive.map(async (id): Promise<CandidateRecord> => {
          const existing = await readRecord(stageDir, id);
          if (existing) {
            report(existing, true);
            return existing;
          }
          const candidate = sampleCandidate(plan.seed, id);
          const previous =
            s > 0 ? join(dir, `stage-${s - 1}-${plan.stages[s - 1]!.name}`) : undefined;
          const task: CandidateTask = {
            recipe,
            stepId,
            plan,
            stageIndex: s,
            candidate,
            ...(previous ? { state: await loadState(previous, id) } : {}),
          };
          const result = pool ? await pool.run(task) : runCandidateStage(task, undefined, model);
          const { state, ...summary } = result;
          const shape = await writeState(join(stageDir, `${id}.bin`), state);
          const record: CandidateRecord = { candidate, result: summary, shape };
          await writeJson(join(stageDir, `${id}.json`), record);
          await recordWallTime();
          report(record, false);
          return record;
        }),
      );
      const keep = shardKeep(stage.keep, plan.population, shardSize);
      const ranked = rank(records);
      alive = ranked.slice(0, keep).map((r) => r.candidate.id);
      // Weights of the candidates dropped here are never needed again.
      for (const record of ranked.slice(keep)) {
        await rm(join(stageDir, `${record.candidate.id}.bin`), { force: true });
      }
    }
    const summary: ShardSummary = { shard, survivors: alive };
    await writeJson(join(dir, `shard-${shard.index}-of-${shard.count}.json`), summary);
    return summary;
  } finally {
    await pool?.close();
  }
}

export interface ModelCard {
  format: 'pipac.model-card/v1';
  /** 'sha256:…' of policy.onnx. */
  version: string;
  file: string;
  step: string;
  recipe: { name: string; version: string };
  twinVersion: string;
  created: string;
  rank: number;
  algorithm: string;
  candidate: CandidateConfig;
  plan: TrainingPlan;
  /** Score after each stage (reward per cycle; ≈ 1 is the nominal product on target). */
  scores: Record<string, number>;
  /**
   * The selection that chose it: per stage, candidates in and kept, score distribution, compute
   * (cards written before 2026-12-07 have none).
   */
  funnel?: FunnelStage[];
  /** How long the run took and where (cards written before 2026-12-07 have none). */
  training?: {
    /**
     * Wall time of the training, s: the sessions that trained it, summed when it was stopped
     * and resumed (`sessions`); absent when sharded (shards run side by side).
     */
    wallSeconds?: number;
    /** How many runs trained it (1 unless stopped and resumed). */
    sessions?: number;
    /** Sum of every candidate's stage seconds (thread time, all shards). */
    candidateSeconds: number;
    /** The machine that merged (and, unsharded, trained): cores × CPU model, Node version. */
    machine: string;
  };
  observation: { features: string[] };
  action: { tag: string; unit: string; low: number; high: number }[];
  controlCycle: number;
}

export interface MergeOptions {
  recipe: Recipe;
  stepId: string;
  plan: TrainingPlan;
  outDir: string;
  shards: number;
  /** Where the deployed models go: <modelsDir>/<step>/policy.onnx and model-card.json. */
  modelsDir: string;
  /** Written into the model cards. */
  created: Date;
  /**
   * Wall time of the training (written into the cards), s. @default what the training recorded
   * when unsharded (summed over its sessions); none when sharded
   */
  wallSeconds?: number;
}

export interface MergeResult {
  deployed: ModelCard[];
  /** Every candidate with its configuration, and the score and seconds of each stage it reached. */
  population: {
    candidate: CandidateConfig;
    scores: Record<string, number>;
    seconds: Record<string, number>;
  }[];
  funnel: FunnelStage[];
}

/**
 * Ranks the survivors of every shard by their last-stage score, exports the best `keep` of
 * the last stage to ONNX with a model card each (rank 1 as policy.onnx, the others as
 * alternates), and writes population.json: every candidate's configuration and scores.
 */
export async function mergeShards(options: MergeOptions): Promise<MergeResult> {
  const { plan, stepId } = options;
  const dir = join(options.outDir, stepId);
  const missing: number[] = [];
  const survivors: number[] = [];
  for (let i = 0; i < options.shards; i++) {
    const summary = await readJson<ShardSummary>(join(dir, `shard-${i}-of-${options.shards}.json`));
    if (!summary) missing.push(i);
    else survivors.push(...summary.survivors);
  }
  if (missing.length > 0)
    throw new RlError(
      'SHARDS_UNFINISHED',
      `shards ${missing.join(', ')} of ${options.shards} have not finished (${dir})`,
    );
  const last = plan.stages.length - 1;
  const lastDir = join(dir, `stage-${last}-${plan.stages[last]!.name}`);
  const finals = (await Promise.all(survivors.map((id) => readRecord(lastDir, id)))).filter(
    (r): r is CandidateRecord => r !== undefined,
  );
  const deployed = rank(finals).slice(0, plan.stages[last]!.keep);
  const population = await collectPopulation(dir, plan);
  await writeJson(join(dir, 'population.json'), population);
  const funnel = selectionFunnel(plan, population, deployed.length);
  const processors = cpus();
  const recorded =
    options.shards === 1
      ? await readJson<WallTime>(join(dir, 'wall-shard-0-of-1.json'))
      : undefined;
  const wallSeconds = options.wallSeconds ?? recorded?.seconds;
  const training: ModelCard['training'] = {
    ...(wallSeconds !== undefined ? { wallSeconds } : {}),
    ...(recorded && options.wallSeconds === undefined ? { sessions: recorded.sessions } : {}),
    candidateSeconds: funnel.reduce((sum, stage) => sum + stage.candidateSeconds, 0),
    machine: `${processors.length} × ${processors[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  };
  const model = compilePlant(options.recipe);
  const space = new StepSpace(model, stepId);
  const target = join(options.modelsDir, stepId);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  const cards: ModelCard[] = [];
  for (const [index, record] of deployed.entries()) {
    const state = await readState(join(lastDir, `${record.candidate.id}.bin`), record.shape);
    const scores = population.find((p) => p.candidate.id === record.candidate.id)?.scores ?? {};
    const file = index === 0 ? 'policy.onnx' : `alternate-${index + 1}.onnx`;
    const meta = {
      step: stepId,
      recipe: `${options.recipe.metadata.name}@${options.recipe.metadata.version}`,
      twinVersion: TWIN_VERSION,
      candidate: String(record.candidate.id),
      observation: space.features.join(','),
      action: space.manipulated.map((m) => m.tag).join(','),
    };
    const exported = exportPolicyToOnnx(state.policy, meta);
    await writeFile(join(target, file), exported.bytes);
    const card: ModelCard = {
      format: 'pipac.model-card/v1',
      version: exported.version,
      file,
      step: stepId,
      recipe: { name: options.recipe.metadata.name, version: options.recipe.metadata.version },
      twinVersion: TWIN_VERSION,
      created: options.created.toISOString(),
      rank: index + 1,
      algorithm: 'PPO (clipped surrogate, GAE), TensorFlow.js; deterministic mean action',
      candidate: record.candidate,
      plan,
      scores,
      funnel,
      training,
      observation: { features: space.features },
      action: space.manipulated.map((m) => ({ tag: m.tag, unit: m.unit, ...m.agent })),
      controlCycle: 60,
    };
    await writeJson(join(target, file.replace(/\.onnx$/, '.card.json')), card);
    cards.push(card);
  }
  return { deployed: cards, population, funnel };
}

async function collectPopulation(
  dir: string,
  plan: TrainingPlan,
): Promise<MergeResult['population']> {
  const byId = new Map<number, MergeResult['population'][number]>();
  for (const [s, stage] of plan.stages.entries()) {
    const stageDir = join(dir, `stage-${s}-${stage.name}`);
    const files = (await readdir(stageDir).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.json'),
    );
    for (const file of files) {
      const record = await readJson<CandidateRecord>(join(stageDir, file));
      if (!record) continue;
      const entry = byId.get(record.candidate.id) ?? {
        candidate: record.candidate,
        scores: {},
        seconds: {},
      };
      entry.scores[stage.name] = record.result.score;
      entry.seconds[stage.name] = record.result.seconds;
      byId.set(record.candidate.id, entry);
    }
  }
  return [...byId.values()].sort((a, b) => a.candidate.id - b.candidate.id);
}

/** Best score first; ties go to the lower id, so the ranking is the same on every run. */
function rank(records: CandidateRecord[]): CandidateRecord[] {
  return [...records].sort(
    (a, b) => b.result.score - a.result.score || a.candidate.id - b.candidate.id,
  );
}

async function loadState(stageDir: string, id: number) {
  const record = await readRecord(stageDir, id);
  if (!record) throw new RlError('MISSING_RESULT', `candidate ${id} has no result in ${stageDir}`);
  return readState(join(stageDir, `${id}.bin`), record.shape);
}

async function readRecord(stageDir: string, id: number): Promise<CandidateRecord | undefined> {
  return readJson<CandidateRecord>(join(stageDir, `${id}.json`));
}

/**
 * Returns a function that records this session's wall time so far into `path` over what
 * earlier sessions recorded there (see `WallTime`); calls are written one after another.
 */
async function wallTimeRecorder(path: string, clock: () => number): Promise<() => Promise<void>> {
  const earlier = (await readJson<WallTime>(path)) ?? { seconds: 0, sessions: 0 };
  const started = clock();
  let writing: Promise<void> = Promise.resolve();
  return () => {
    const now: WallTime = {
      seconds: earlier.seconds + (clock() - started) / 1000,
      sessions: earlier.sessions + 1,
    };
    writing = writing.then(() => writeJson(path, now));
    return writing;
  };
}

/** The plan a work folder was started with; a resumed run must use the same one. */
async function pinPlan(dir: string, plan: TrainingPlan): Promise<void> {
  const path = join(dir, 'plan.json');
  const pinned = await readJson<TrainingPlan>(path);
  if (!pinned) {
    // Two shards may start at once: both write the same content, the rename is atomic.
    await writeJson(path, plan);
    return;
  }
  if (JSON.stringify(pinned) !== JSON.stringify(plan)) {
    throw new RlError(
      'PLAN_MISMATCH',
      `${path} holds a different plan: resume with the same options, or use a new --out folder`,
    );
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}
