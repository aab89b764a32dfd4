/**
 * The server's time, as one dependency: which period a submit counts in, which period
 * `global:daily` means, and when live feeds roll over all read it. Tests inject an offset clock to
 * stand the server just before a period boundary; everything else uses the system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The system clock shifted by a settable offset. */
export class OffsetClock implements Clock {
  constructor(public offsetMs = 0) {}
  now(): number {
    return Date.now() + this.offsetMs;
  }
}
