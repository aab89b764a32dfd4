/**
 * The part of the wire contract a client needs, with no zod: the registries, limits, the codec,
 * diffs and the plain types. The client SDK imports only this, so its published build carries
 * compiled copies of these modules and needs nothing but msgpackr at run time; protocol/index.ts
 * adds the zod schemas the server validates with. Nothing reachable from here may import zod.
 */
export * from './codes.ts';
export * from './limits.ts';
export * from './subprotocol.ts';
export { decode, DecodeError, encode, isMap } from './codec.ts';
export { applyDiff, type TopDiff } from './diff.ts';
export { compareListing, percentile } from './ranking.ts';
export { DEFAULT_DISPLAY, formatFixed, formatScore, formatTimeMs } from './score-format.ts';
export type * from './types.ts';
