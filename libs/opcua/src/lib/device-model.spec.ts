import { recipePlant } from '../testing/reference-plant';
import { controlFunctions, describePlantDevices, readingTags } from './device-model';

describe('describePlantDevices', () => {
  const devices = describePlantDevices(recipePlant());

  it('gives each step of the reference plant a flow-reactor module and its analyser', () => {
    expect(devices.map((d) => [d.id, d.profile])).toEqual([
      ['nitration-module', 'de-dietrich-flow-reactor'],
      ['AT-101', 'bruker-nmr'],
      ['hydrogenation-module', 'de-dietrich-flow-reactor'],
      ['AT-201', 'bruker-ir'],
      ['acetylation-module', 'de-dietrich-flow-reactor'],
      ['AT-301', 'bruker-ir'],
    ]);
  });

  it('takes setpoint tags, units and engineering ranges from the recipe', () => {
    const nitration = controlFunctions(devices[0]!);
    expect([...nitration.keys()]).toEqual(['P-101', 'P-102', 'TC-101', 'PCV-101']);
    expect(nitration.get('P-101')).toMatchObject({
      unit: 'mL/min',
      range: { low: 0, high: 12 }, // 0 stops the pump; 1 mL/min is its lowest running flow
      initial: 6,
      targetTag: 'P-101.SP',
      currentTag: 'P-101.PV',
    });
    expect(nitration.get('TC-101')).toMatchObject({ unit: '°C', range: { low: 10, high: 50 } });
    const hydrogen = controlFunctions(devices[2]!).get('MFC-201');
    expect(hydrogen).toMatchObject({ unit: 'NmL/min', range: { low: 0, high: 1000 } });
  });

  it('publishes every analyser measure as its own tag', () => {
    expect(readingTags(devices[1]!)).toEqual([
      'AT-101.4-nitrophenol',
      'AT-101.2-nitrophenol',
      'AT-101.conversion',
    ]);
  });

  it('gives the module that fills a surge tank its level transmitter', () => {
    expect(readingTags(devices[0]!)).toContain('tank-1.LI');
    expect(readingTags(devices[2]!)).toContain('tank-2.LI');
    expect(devices[4]!.functionalUnits.some((u) => u.kind === 'surge-tank')).toBe(false);
    expect(devices[0]!.functionalUnits.at(-1)).toMatchObject({
      name: 'tank-1',
      kind: 'surge-tank',
      functions: [{ name: 'Level', unit: 'L', range: { low: 0, high: 2 } }],
    });
  });

  it('gives every tag of the plant once', () => {
    const tags = devices.flatMap(readingTags);
    expect(new Set(tags).size).toBe(tags.length);
  });

  it('describes any recipe: one module per step, one device per analyser', () => {
    const model = recipePlant('benchmark-5x4');
    const described = describePlantDevices(model);
    const analysers = model.steps.filter((s) => s.spec.analyser).length;
    expect(described).toHaveLength(model.steps.length + analysers);
    expect(described.filter((d) => d.profile === 'de-dietrich-flow-reactor')).toHaveLength(
      model.steps.length,
    );
  });
});
