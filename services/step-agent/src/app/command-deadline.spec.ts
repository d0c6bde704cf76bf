import { CommandDeadline } from './command-deadline';

describe('CommandDeadline', () => {
  const epoch = Date.UTC(2026, 10, 29, 8);

  it('on the wall clock, a command lives one cycle (60 s), or the 2 s floor for a short cycle', () => {
    let wall = 0;
    const clock = () => epoch + wall;
    const wallClock = () => wall;
    expect(new CommandDeadline({ clock, wallClock, cycleMs: 60_000 }).deadline(epoch)).toBe(
      epoch + 60_000,
    );
    wall = 5_000;
    expect(new CommandDeadline({ clock, wallClock, cycleMs: 500 }).deadline(epoch)).toBe(
      epoch + 2_000,
    );
  });

  it("measures the plant clock's rate against the wall clock when no time factor is given", () => {
    let wall = 0;
    // The simulator's plant time moves in 12 s steps (100 ms ticks at 120×).
    const clock = () => epoch + Math.floor(wall / 100) * 12_000;
    const deadline = new CommandDeadline({ clock, wallClock: () => wall, cycleMs: 500 });
    // Before any wall time has passed the rate is unknown: the wall-clock life.
    expect(deadline.deadline(epoch)).toBe(epoch + 2_000);
    wall = 600;
    expect(deadline.timeFactor).toBeCloseTo(120, 6);
    expect(deadline.deadline(clock())).toBe(clock() + 240_000);
  });

  it('never shortens a life below its wall-clock length (a frozen test clock)', () => {
    let wall = 0;
    const deadline = new CommandDeadline({
      clock: () => epoch,
      wallClock: () => wall,
      cycleMs: 60_000,
    });
    wall = 10_000;
    expect(deadline.timeFactor).toBe(1);
    expect(deadline.deadline(epoch)).toBe(epoch + 60_000);
  });

  it('takes a given time factor and floor as they are', () => {
    const deadline = new CommandDeadline({
      clock: () => epoch,
      cycleMs: 500,
      timeFactor: 240,
      floorWallMs: 1_000,
    });
    expect(deadline.deadline(epoch)).toBe(epoch + 240_000);
  });
});
