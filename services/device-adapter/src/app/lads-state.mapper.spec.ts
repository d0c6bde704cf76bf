import { ladsStateText } from './lads-state.mapper';

describe('ladsStateText', () => {
  it('is the device state alone when no functional unit is mapped', () => {
    expect(ladsStateText({ device: 'Operate', units: [] })).toBe('Operate');
  });

  it("lists each functional unit's state after the device's, in the node map's order", () => {
    expect(
      ladsStateText({
        device: 'Sleep',
        units: [
          { unit: 'P-101', state: 'Running' },
          { unit: 'R-nitration', state: 'Aborted' },
        ],
      }),
    ).toBe('Sleep; P-101: Running, R-nitration: Aborted');
  });

  it('writes a state the device did not report as Unknown, and no state as empty', () => {
    expect(
      ladsStateText({ device: undefined, units: [{ unit: 'AT-101', state: undefined }] }),
    ).toBe('Unknown; AT-101: Unknown');
    expect(ladsStateText(undefined)).toBe('');
  });
});
