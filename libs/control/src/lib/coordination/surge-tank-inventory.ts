import { CoordinationError } from './coordination.error';

/** One lot's share of what a surge tank holds. */
export interface TankPortion {
  /** Whose material it is: a lot id (or any label the caller books by). */
  lot: string;
  /** L */
  volume: number;
  /** g of the tracked material (the filling step's product). */
  grams: number;
  /** Of `grams`, what was estimated rather than measured (a held or assumed concentration). */
  estimatedGrams: number;
}

/** What one draw took out of a tank. */
export interface TankDraw {
  /** L the drawing step's pumps report. */
  requested: number;
  /** L the tank held of it (`requested` less `short`). */
  volume: number;
  grams: number;
  estimatedGrams: number;
  /** The same, per lot, in proportion to each lot's share of the tank (it is well mixed). */
  portions: TankPortion[];
  /** L asked for beyond what the tank was known to hold: it ran empty (nothing is booked for it). */
  short: number;
}

/** What a reconciliation with the level reading changed. */
export interface TankReconciliation {
  /** L added (positive) or removed (negative) to match the level reading. */
  volume: number;
  grams: number;
  estimatedGrams: number;
}

/** Running totals of a tank: in − out + reconciled = held, to round-off. */
export interface TankTotals {
  filledVolume: number;
  filledGrams: number;
  drawnVolume: number;
  drawnGrams: number;
  reconciledVolume: number;
  reconciledGrams: number;
}

/** Below this a tank is empty (L): a picolitre is round-off of the flow integration. */
const EMPTY = 1e-12;

/**
 * What a surge tank holds: its volume and the grams of the filling step's product, per lot, from
 * what went in (the filling step's outlet: its liquid flow × the product concentration its
 * analyser measures, the same figure the ledger books as that step's production) and what went
 * out (the drawing step's draw × the tank's own concentration). The tank is well mixed (as the
 * twin's tanks are): a draw takes every lot in proportion to its share of the volume, at the
 * tank's mean concentration, however the filler's concentration has moved since. The level
 * transmitter is the truth for the volume: `reconcile` scales the contents to it, keeping the
 * concentration (a flow reading's error moves volume, not composition).
 *
 * Every figure must be a finite number ≥ 0; anything else is refused with `BAD_QUANTITY`
 * (a NaN would silently poison every later draw).
 */
export class SurgeTankInventory {
  private readonly portions = new Map<string, TankPortion>();
  private readonly running: TankTotals = {
    filledVolume: 0,
    filledGrams: 0,
    drawnVolume: 0,
    drawnGrams: 0,
    reconciledVolume: 0,
    reconciledGrams: 0,
  };

  constructor(readonly tank: string) {}

  /** L held. */
  get volume(): number {
    return this.sum('volume');
  }

  /** g of the tracked material held. */
  get grams(): number {
    return this.sum('grams');
  }

  get estimatedGrams(): number {
    return this.sum('estimatedGrams');
  }

  /** g/L of the tracked material; NaN while the tank is empty (no composition to speak of). */
  get concentration(): number {
    const volume = this.volume;
    return volume > EMPTY ? this.grams / volume : Number.NaN;
  }

  get totals(): Readonly<TankTotals> {
    return { ...this.running };
  }

  /** Each lot's share, largest first (copies). */
  contents(): TankPortion[] {
    return [...this.portions.values()]
      .map((p) => ({ ...p }))
      .sort((a, b) => b.volume - a.volume || a.lot.localeCompare(b.lot));
  }

  /** Puts `volume` L holding `grams` g (of which `estimatedGrams` estimated) of `lot` in. */
  fill(lot: string, volume: number, grams: number, estimatedGrams = 0): void {
    check(this.tank, 'fill volume', volume);
    check(this.tank, 'fill grams', grams);
    check(this.tank, 'estimated grams', estimatedGrams);
    if (estimatedGrams > grams * (1 + 1e-12))
      throw new CoordinationError(
        'BAD_QUANTITY',
        `${this.tank}: ${estimatedGrams} g estimated of ${grams} g filled`,
      );
    if (volume === 0 && grams === 0) return;
    const portion = this.portion(lot);
    portion.volume += volume;
    portion.grams += grams;
    portion.estimatedGrams += Math.min(estimatedGrams, grams);
    this.running.filledVolume += volume;
    this.running.filledGrams += grams;
  }

  /** Takes `volume` L out, from every lot in proportion; what the tank did not hold is `short`. */
  draw(volume: number): TankDraw {
    check(this.tank, 'draw volume', volume);
    const held = this.volume;
    const taken = held > EMPTY ? Math.min(volume, held) : 0;
    const fraction = held > EMPTY ? taken / held : 0;
    const portions: TankPortion[] = [];
    for (const portion of this.portions.values()) {
      if (fraction === 0) break;
      const out = {
        lot: portion.lot,
        volume: portion.volume * fraction,
        grams: portion.grams * fraction,
        estimatedGrams: portion.estimatedGrams * fraction,
      };
      portion.volume -= out.volume;
      portion.grams -= out.grams;
      portion.estimatedGrams -= out.estimatedGrams;
      if (out.volume > 0 || out.grams > 0) portions.push(out);
    }
    if (fraction === 1 || this.volume <= EMPTY) this.portions.clear(); // drained: no residue of round-off
    const grams = portions.reduce((sum, p) => sum + p.grams, 0);
    this.running.drawnVolume += taken;
    this.running.drawnGrams += grams;
    return {
      requested: volume,
      volume: taken,
      grams,
      estimatedGrams: portions.reduce((sum, p) => sum + p.estimatedGrams, 0),
      portions,
      short: Math.max(0, volume - taken),
    };
  }

  /**
   * Scales the contents to the level reading (L), keeping their concentration and lot shares.
   * A tank tracked as empty that reads a level holds something nobody booked into it: it is
   * added as `unknown`'s lot at `unknown.concentration` g/L, all of it estimated.
   */
  reconcile(level: number, unknown?: { lot: string; concentration: number }): TankReconciliation {
    check(this.tank, 'level', level);
    const held = this.volume;
    if (held <= EMPTY) {
      if (level <= EMPTY || !unknown) return { volume: 0, grams: 0, estimatedGrams: 0 };
      check(this.tank, 'assumed concentration', unknown.concentration);
      const grams = level * unknown.concentration;
      const portion = this.portion(unknown.lot);
      portion.volume += level;
      portion.grams += grams;
      portion.estimatedGrams += grams;
      this.running.reconciledVolume += level;
      this.running.reconciledGrams += grams;
      return { volume: level, grams, estimatedGrams: grams };
    }
    const factor = level / held;
    const before = { grams: this.grams, estimatedGrams: this.estimatedGrams };
    for (const portion of this.portions.values()) {
      portion.volume *= factor;
      portion.grams *= factor;
      portion.estimatedGrams *= factor;
    }
    if (level <= EMPTY) this.portions.clear();
    const change = {
      volume: level - held,
      grams: this.grams - before.grams,
      estimatedGrams: this.estimatedGrams - before.estimatedGrams,
    };
    this.running.reconciledVolume += change.volume;
    this.running.reconciledGrams += change.grams;
    return change;
  }

  /** Everything held becomes `lot`'s (an order's opening inventory), keeping what was estimated. */
  relabel(lot: string): void {
    const merged: TankPortion = { lot, volume: 0, grams: 0, estimatedGrams: 0 };
    for (const portion of this.portions.values()) {
      merged.volume += portion.volume;
      merged.grams += portion.grams;
      merged.estimatedGrams += portion.estimatedGrams;
    }
    this.portions.clear();
    if (merged.volume > EMPTY || merged.grams > 0) this.portions.set(lot, merged);
  }

  private portion(lot: string): TankPortion {
    let portion = this.portions.get(lot);
    if (!portion) {
      portion = { lot, volume: 0, grams: 0, estimatedGrams: 0 };
      this.portions.set(lot, portion);
    }
    return portion;
  }

  private sum(key: 'volume' | 'grams' | 'estimatedGrams'): number {
    let total = 0;
    for (const portion of this.portions.values()) total += portion[key];
    return total;
  }
}

function check(tank: string, what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0)
    throw new CoordinationError(
      'BAD_QUANTITY',
      `${tank}: ${what} ${value} is not a finite number ≥ 0`,
    );
}
