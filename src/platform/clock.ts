// Time is passed in, never read by domain code, so that expiry and retries can be tested exactly.

/** A source of the current time. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export interface FakeClock extends Clock {
  set(at: Date | number): void;
  advance(ms: number): void;
}

/** Creates a fake clock starting at `start`. */
export function fakeClock(start: Date | number = Date.UTC(2026, 0, 1)): FakeClock {
  let t = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => new Date(t),
    set: (at) => {
      t = typeof at === 'number' ? at : at.getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
