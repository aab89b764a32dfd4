/** The wire contract, v1 (see README "Protocol"). Imports nothing outside protocol/. */
export * from './codes.ts';
export * from './limits.ts';
export * from './board.ts';
export * from './score-format.ts';
export * as fields from './fields.ts';
export * from './names.ts';
export * from './requests.ts';
export * from './replies.ts';
export * from './http.ts';
export * from './codec.ts';
export { decodeStrict, type Decoded } from './msgpack-decode.ts';
export * from './subprotocol.ts';
export * from './ranking.ts';
export * from './diff.ts';
export { openApiDocument } from './openapi.ts';
export { HTTP_EXAMPLES } from './examples.ts';
