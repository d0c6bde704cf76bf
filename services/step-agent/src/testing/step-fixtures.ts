import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCardHeader, StepSpace } from '@pipac/control';
import {
  Quality,
  SensorReadingSchema,
  analyserMeasureTag,
  create,
  reactorSensorTags,
  targetValueTag,
  timestampFromMs,
  type SensorReading,
} from '@pipac/contracts';
import { exportPolicyToOnnx } from '@pipac/rl';
import { SeededRandom } from '@pipac/twin';

/**
 * Writes a small random policy for a step, with its model card, where the step agent looks for
 * it (<dir>/<step>/policy.onnx). A different seed gives a different model version.
 */
export function writeTestPolicy(
  dir: string,
  space: StepSpace,
  seed: number,
  overrides: Partial<ModelCardHeader> = {},
): string {
  const random = new SeededRandom(seed);
  const sizes = [space.observationSize, 16, space.actionSize];
  const layers = sizes.slice(1).map((out, l) => ({
    weight: Float32Array.from({ length: sizes[l]! * out }, () => random.normal() * 0.3),
    bias: new Float32Array(out),
  }));
  const exported = exportPolicyToOnnx({ sizes, layers });
  const stepDir = join(dir, space.step.id);
  mkdirSync(stepDir, { recursive: true });
  writeFileSync(join(stepDir, 'policy.onnx'), exported.bytes);
  const card: ModelCardHeader = {
    format: 'pipac.model-card/v1',
    version: exported.version,
    file: 'policy.onnx',
    step: space.step.id,
    recipe: {
      name: space.model.recipe.metadata.name,
      version: space.model.recipe.metadata.version,
    },
    observation: { features: space.features },
    action: space.manipulated.map((m) => ({ tag: m.tag })),
    ...overrides,
  };
  writeFileSync(join(stepDir, 'policy.card.json'), JSON.stringify(card));
  return exported.version;
}

/**
 * A full set of a step's readings at time `at` (ms), as the device adapters publish them: the
 * devices' setpoints at the recipe's values, the reactor's sensors, and an analyser result
 * sampled `analyserAge` ms earlier.
 */
export function stepSensorReadings(
  space: StepSpace,
  at: number,
  options: { conversion?: number; analyserAge?: number; analyserQuality?: Quality } = {},
): SensorReading[] {
  const step = space.step;
  const place = { site: 'site', cell: 'cell', step: step.id, device: `${step.id}-module` };
  const reading = (tag: string, value: number, unit: string, time = at, quality = Quality.GOOD) =>
    create(SensorReadingSchema, {
      location: place,
      tag,
      value,
      unit,
      quality,
      statusCode: quality === Quality.GOOD ? 0 : 0x80000000,
      timestamps: { source: timestampFromMs(time) },
    });
  const out = [
    ...space.manipulated.map((m) => reading(targetValueTag(m.tag), m.nominal, m.unit)),
    reading(targetValueTag(step.backPressure.tag), step.backPressure.nominal, 'bar'),
    reading(reactorSensorTags(step.id).hotSpot, step.thermostat.nominal + 5, '°C'),
    reading(reactorSensorTags(step.id).inletPressure, step.backPressure.nominal + 0.2, 'bar'),
  ];
  const analyser = step.spec.analyser;
  if (analyser) {
    const sampled = at - (options.analyserAge ?? analyser.deadTime * 1000);
    for (const m of analyser.measures) {
      out.push(
        reading(
          analyserMeasureTag(analyser.tag, m),
          m.quantity === 'conversion' ? (options.conversion ?? step.minConversion + 0.02) : 0.3,
          m.quantity === 'conversion' ? '1' : 'mol/L',
          sampled,
          options.analyserQuality ?? Quality.GOOD,
        ),
      );
    }
  }
  return out;
}
