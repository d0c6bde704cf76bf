import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxPolicy, StepSpace } from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { sampleCandidate } from './candidate';
import {
  mergeShards,
  shardCandidates,
  shardKeep,
  trainShard,
  type PopulationProgress,
} from './population-training';
import type { TrainingPlan } from './training-plan';

const recipe = loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml'));

/** Small enough for a test: seconds per candidate. */
const tiny: TrainingPlan = {
  population: 6,
  seed: 5,
  envs: 1,
  horizon: 32,
  episodeSeconds: 1800,
  stages: [
    { name: 'screen', steps: 32, episodes: 2, keep: 4 },
    { name: 'train', steps: 32, episodes: 2, keep: 2 },
    {
      name: 'robust',
      steps: 0,
      episodes: 2,
      randomisation: { kineticMismatch: [0.8, 1.2] },
      dt: 1,
      keep: 1,
    },
  ],
};

describe('population training', () => {
  let out: string;
  beforeEach(async () => (out = await mkdtemp(join(tmpdir(), 'pipac-train-'))));
  afterEach(() => rm(out, { recursive: true, force: true }));

  it('draws each candidate from (seed, id) alone, and splits the population into disjoint shards', () => {
    expect(sampleCandidate(5, 3)).toEqual(sampleCandidate(5, 3));
    expect(sampleCandidate(5, 3)).not.toEqual(sampleCandidate(5, 4));
    expect(sampleCandidate(5, 0)).toMatchObject({ hidden: [64, 64], learningRate: 3e-4 });
    const shards = [0, 1, 2].map((index) => shardCandidates(1000, { index, count: 3 }));
    expect(shards.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(shardKeep(100, 1000, 334)).toBe(33);
    expect(shardKeep(1, 1000, 10)).toBe(1);
  });

  it('trains shards, resumes, merges, keeps the best, and exports a policy with its model card', async () => {
    const events: PopulationProgress[] = [];
    for (const index of [0, 1]) {
      await trainShard({
        recipe,
        stepId: 'acetylation',
        plan: tiny,
        outDir: out,
        shard: { index, count: 2 },
        workers: 0,
        onProgress: (e) => events.push(e),
      });
    }
    // Each shard screens its 3, trains its 2, robust-checks 1.
    expect(events.filter((e) => e.stage === 'screen')).toHaveLength(6);
    expect(events.filter((e) => e.stage === 'train')).toHaveLength(4);
    expect(events.filter((e) => e.stage === 'robust')).toHaveLength(2);
    expect(events.every((e) => !e.resumed && Number.isFinite(e.score))).toBe(true);
    // The survivors of a stage are its best.
    const screened = events.filter((e) => e.stage === 'screen' && e.candidate % 2 === 0);
    const trained = events.filter((e) => e.stage === 'train' && e.candidate % 2 === 0);
    const worst = screened.sort((a, b) => a.score - b.score)[0]!.candidate;
    expect(trained.map((e) => e.candidate)).not.toContain(worst);

    // A rerun finds everything on disk.
    const again: PopulationProgress[] = [];
    await trainShard({
      recipe,
      stepId: 'acetylation',
      plan: tiny,
      outDir: out,
      shard: { index: 0, count: 2 },
      workers: 0,
      onProgress: (e) => again.push(e),
    });
    expect(again.length).toBe(6);
    expect(again.every((e) => e.resumed)).toBe(true);
    await expect(
      trainShard({
        recipe,
        stepId: 'acetylation',
        plan: { ...tiny, seed: 6 },
        outDir: out,
        workers: 0,
      }),
    ).rejects.toThrow(/different plan/);

    const models = join(out, 'models');
    const merged = await mergeShards({
      recipe,
      stepId: 'acetylation',
      plan: tiny,
      outDir: out,
      shards: 2,
      modelsDir: models,
      created: new Date('2026-11-29T00:00:00Z'),
    });
    expect(merged.population).toHaveLength(6);
    expect(merged.population.filter((p) => 'robust' in p.scores)).toHaveLength(2);
    const robust = events.filter((e) => e.stage === 'robust');
    const winner = robust.sort((a, b) => b.score - a.score)[0]!;
    expect(merged.deployed).toHaveLength(1);
    const card = merged.deployed[0]!;
    expect(card).toMatchObject({
      rank: 1,
      step: 'acetylation',
      file: 'policy.onnx',
      created: '2026-11-29T00:00:00.000Z',
    });
    expect(card.candidate.id).toBe(winner.candidate);
    expect(Object.keys(card.scores)).toEqual(['screen', 'train', 'robust']);
    // The funnel of both shards together: 6 screened, 4 trained, 2 robust-checked, 1 deployed.
    expect(card.funnel!.map((f) => [f.stage, f.started, f.kept])).toEqual([
      ['screen', 6, 4],
      ['train', 4, 2],
      ['robust', 2, 1],
    ]);
    expect(card.funnel![2]!.score.max).toBe(winner.score);
    expect(card.training!.candidateSeconds).toBeGreaterThan(0);
    expect(card.training!.machine).toMatch(/^\d+ × .+, Node v\d+/);
    expect(await readdir(join(models, 'acetylation'))).toEqual(['policy.card.json', 'policy.onnx']);
    const space = new StepSpace(compilePlant(recipe), 'acetylation');
    const policy = await OnnxPolicy.fromFile(
      join(models, 'acetylation', 'policy.onnx'),
      space.observationSize,
    );
    expect(policy.version).toBe(card.version);
    const action = await policy.act(new Float32Array(space.observationSize));
    expect(action).toHaveLength(space.actionSize);
    await policy.release();
    const onDisk = JSON.parse(
      await readFile(join(out, 'acetylation', 'population.json'), 'utf8'),
    ) as unknown[];
    expect(onDisk).toHaveLength(6);
  }, 120_000);

  it('refuses to merge before every shard has finished', async () => {
    await expect(
      mergeShards({
        recipe,
        stepId: 'nitration',
        plan: tiny,
        outDir: out,
        shards: 2,
        modelsDir: out,
        created: new Date(0),
      }),
    ).rejects.toThrow(/shards 0, 1 of 2 have not finished/);
  });

  it('sums the wall time of the sessions that trained a run stopped and resumed', async () => {
    const plan: TrainingPlan = {
      ...tiny,
      population: 2,
      stages: [{ ...tiny.stages[0]!, keep: 1 }],
    };
    // A clock that moves 10 s each time it is read: what the runs record is what they read.
    let now = 0;
    const clock = () => (now += 10_000);
    const train = () =>
      trainShard({ recipe, stepId: 'nitration', plan, outDir: out, workers: 0, clock });
    await train(); // read at start, then after each of 2 candidates: 20 s
    await train(); // finds both on disk: records nothing
    // Stopped before its second candidate had finished: the rerun trains that one only.
    await rm(join(out, 'nitration', 'stage-0-screen', '1.json'));
    await train(); // 10 s more
    const card = (seconds?: number) =>
      mergeShards({
        recipe,
        stepId: 'nitration',
        plan,
        outDir: out,
        shards: 1,
        modelsDir: join(out, 'models'),
        created: new Date(0),
        ...(seconds !== undefined ? { wallSeconds: seconds } : {}),
      }).then((m) => m.deployed[0]!.training!);
    expect(await card()).toMatchObject({ wallSeconds: 30, sessions: 2 });
    expect(await card(12)).not.toHaveProperty('sessions');
  }, 120_000);

  it('runs candidates on worker threads with the same results as in this thread', async () => {
    const plan: TrainingPlan = {
      ...tiny,
      population: 2,
      stages: [{ ...tiny.stages[0]!, keep: 1 }],
    };
    const inline: PopulationProgress[] = [];
    const threaded: PopulationProgress[] = [];
    await trainShard({
      recipe,
      stepId: 'nitration',
      plan,
      outDir: join(out, 'a'),
      workers: 0,
      onProgress: (e) => inline.push(e),
    });
    await trainShard({
      recipe,
      stepId: 'nitration',
      plan,
      outDir: join(out, 'b'),
      workers: 2,
      onProgress: (e) => threaded.push(e),
    });
    const scores = (events: PopulationProgress[]) =>
      Object.fromEntries(events.map((e) => [e.candidate, e.score]));
    expect(scores(threaded)).toEqual(scores(inline));
  }, 120_000);
});
