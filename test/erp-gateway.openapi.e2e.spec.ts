import { startFuzzTarget, type FuzzTarget } from '@pipac/erp-gateway/testing';
import type { Database } from '@pipac/persistence';
import { scratchPostgres, scratchSqlite, type ScratchDatabase } from '@pipac/persistence/testing';
import { describeReport, runSchemathesis, type FuzzReport } from './support/schemathesis';

/**
 * The ERP gateway's OpenAPI document against the gateway itself: schemathesis (a property-based
 * fuzzer, pinned in scripts/schemathesis/schemathesis.sh) generates requests from the served
 * document, valid and invalid, and checks every answer: no 5xx, every status documented for its
 * operation, every body matching the documented schema and media type. Bounded: a fixed seed and
 * number of examples per operation, one worker. The gateway runs for real (Nest, validation,
 * TypeORM) on SQLite and on PostgreSQL, seeded with an order, lots and the rest so that fuzzed
 * paths also name objects that exist.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'response_schema_conformance',
  'content_type_conformance',
];
const SEED = 20_260_401;

/** Seeded ids, by path parameter, drawn half the time instead of generated values. */
function dictionaries(target: FuzzTarget) {
  return {
    dictionaries: {
      id: target.seeded.orderIds,
      lotId: target.seeded.lotIds,
      version: target.seeded.modelVersions,
      commandId: target.seeded.commandIds,
      step: target.seeded.steps,
      subscriptions: target.seeded.subscriptionIds,
    },
    // `id` is a subscription's id under /webhooks, an order's elsewhere.
    operationDictionaries: [
      { pathRegex: '^/api/v1/webhooks/', parameter: 'id', dictionary: 'subscriptions' },
    ],
  };
}

async function fuzz(
  label: string,
  target: FuzzTarget,
  key: string,
  maxExamples: number,
  phases?: string[],
): Promise<FuzzReport> {
  const report = await runSchemathesis({
    schemaUrl: `${target.origin}/api/v1/openapi.json`,
    headers: { Authorization: `Bearer ${key}` },
    checks: CHECKS,
    maxExamples,
    seed: SEED,
    ...dictionaries(target),
    ...(phases ? { phases } : {}),
  });
  // The figures go into the test output whether the run passes or not.
  process.stdout.write(`${describeReport(label, report)}\n`);
  return report;
}

function expectClean(report: FuzzReport): void {
  expect(report.requests).toBeGreaterThan(report.operations);
  if (report.failures.length > 0 || report.exitCode !== 0) {
    throw new Error(
      `schemathesis found ${report.failures.length} failures (exit ${report.exitCode}):\n` +
        `${report.failures.join('\n')}\n\n${report.outputTail}`,
    );
  }
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`the OpenAPI document describes the gateway (schemathesis, ${driver})`, () => {
    jest.setTimeout(240_000);
    let scratch: ScratchDatabase;
    let db: Database;
    let target: FuzzTarget;

    beforeAll(async () => {
      scratch = driver === 'sqlite' ? scratchSqlite() : await scratchPostgres();
      db = await scratch.open();
      target = await startFuzzTarget(db);
    });

    afterAll(async () => {
      await target?.close();
      await db?.close();
      await scratch?.dispose();
    });

    it('answers every generated request with a documented status, schema and media type, never a 5xx', async () => {
      const report = await fuzz(`${driver}, a key with every role`, target, target.key, 20);
      expectClean(report);
      // Real objects were reached, not only refusals of malformed input.
      expect(report.statuses[200]).toBeGreaterThan(0);
      expect(report.statuses[201]).toBeGreaterThan(0);
    });

    if (driver === 'sqlite') {
      it('documents the refusals of a caller without the role (403) and without a valid key (401)', async () => {
        const { key: viewer } = await target.createClient(['viewer']);
        const refused = await fuzz(`${driver}, a viewer's key`, target, viewer, 5, [
          'examples',
          'fuzzing',
        ]);
        expectClean(refused);
        expect(refused.statuses[403]).toBeGreaterThan(0);
        const unknown = await fuzz(
          `${driver}, an unknown key`,
          target,
          `pipac_00000000_${'x'.repeat(43)}`,
          2,
          ['examples', 'fuzzing'],
        );
        expectClean(unknown);
        // Nothing is answered without a valid key; only a body the parser refuses (400, 413,
        // 415) is turned away before the key is looked at.
        expect(unknown.statuses[401]).toBeGreaterThan(0);
        const answered = Object.keys(unknown.statuses).map(Number);
        expect(answered.filter((s) => ![400, 401, 413, 415].includes(s))).toEqual([]);
      });
    }
  });
}
