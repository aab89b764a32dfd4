/**
 * Keeps one key's work in the order it arrived across asynchronous steps. A user's submits must
 * reach the write pipeline in the order they were sent (its batcher keeps that order from there),
 * but the steps before it (name checks, admission against Redis or a new game mode's lookup in
 * PostgreSQL) take different times for different submits. Each submit waits its turn behind the
 * previous submit of the same user before those steps, and hands the turn on once it is in the
 * pipeline or refused. Different keys never wait for each other.
 */
export interface Turn {
  /** Resolves when every earlier entry of the same key has handed its turn on. Never rejects. */
  ready: Promise<void>;
  /** Hands the turn to the next entry of the key; call exactly once, whatever happened. */
  done(): void;
}

export class ArrivalOrder<K> {
  /** The last entry of each key still holding or awaiting its turn. */
  private readonly tails = new Map<K, Promise<void>>();

  enter(key: K): Turn {
    const before = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, mine);
    let released = false;
    return {
      ready: before ?? Promise.resolve(),
      done: () => {
        if (released) return;
        released = true;
        release();
        if (this.tails.get(key) === mine) this.tails.delete(key);
      },
    };
  }

  /** Keys with an entry holding or awaiting its turn. */
  get size(): number {
    return this.tails.size;
  }
}
