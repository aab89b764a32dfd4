/** What the Socket.IO peer and its load generator say to each other (types only). */

export interface SubmitPayload {
  userId: number;
  score: number;
  gameMode: string;
}

export type SubmitAck = { ok: true; total: number; rank: number } | { ok: false; error: string };

export interface TopEntry {
  userId: number;
  score: number;
}

/** Broadcast to the `spectators` room after every submit. */
export interface Top10Message {
  top: TopEntry[];
  /** The submit that caused this broadcast (the bench matches deliveries to writes by it). */
  by: { userId: number; total: number };
}
