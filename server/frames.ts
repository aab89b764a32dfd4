/**
 * The front of the socket pipeline as a pure function: decode one frame, read `rid` and `op`, and
 * validate the op's fields. Returns the typed request, or the error to answer with (and the rid to
 * answer it under, when the rid itself was valid). Size limits are enforced before this runs.
 */
import type { z } from 'zod';
import { DecodeError, OPS, REQUEST_SCHEMAS, decodeStrict, fields, isMap, type Op, type RequestOf } from '../protocol/index.ts';
import { AppError, badRequest } from './errors.ts';

export type ParsedFrame =
  | { ok: true; rid: number | undefined; op: Op; req: RequestOf<Op> }
  | { ok: false; rid: number | undefined; error: AppError };

const OP_SET: ReadonlySet<string> = new Set(OPS);

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function notAnInteger(path: string): AppError {
  return badRequest(`${path}: must be an integer (sent as a MessagePack float)`);
}

export function parseFrame(bytes: Uint8Array, isBinary: boolean): ParsedFrame {
  if (!isBinary) return { ok: false, rid: undefined, error: badRequest('text frames are not accepted; send binary MessagePack') };
  let frame: unknown;
  let floats: string[];
  try {
    ({ value: frame, floats } = decodeStrict(bytes));
  } catch (err) {
    // Nothing of a frame that is not standard MessagePack is trusted, its rid included. Only our
    // own decoder's reasons are worth repeating; anything else would leak internals.
    const why = err instanceof DecodeError ? `: ${err.message}` : '';
    return { ok: false, rid: undefined, error: badRequest(`frame is not standard MessagePack${why}`) };
  }
  if (!isMap(frame)) return { ok: false, rid: undefined, error: badRequest('frame must be a MessagePack map') };

  let rid: number | undefined;
  if (floats.includes('rid')) return { ok: false, rid: undefined, error: notAnInteger('rid') };
  if (frame.rid !== undefined) {
    const r = fields.rid.safeParse(frame.rid);
    if (!r.success) return { ok: false, rid: undefined, error: badRequest(`rid: ${describeIssues(r.error)}`) };
    rid = r.data;
  }
  const op = frame.op;
  if (typeof op !== 'string' || !OP_SET.has(op)) {
    return { ok: false, rid, error: badRequest(`op: must be one of ${OPS.join(', ')}`) };
  }
  const parsed = REQUEST_SCHEMAS[op as Op].safeParse(frame);
  if (!parsed.success) return { ok: false, rid, error: badRequest(describeIssues(parsed.error)) };
  // No field of the contract is a float: one sent where the schema took a whole number (5.0) is
  // refused. Floats in unknown fields are ignored with the fields themselves (zod drops them).
  const known = parsed.data as Record<string, unknown>;
  const wrong = floats.find((path) => path.split('.', 1)[0]! in known);
  if (wrong !== undefined) return { ok: false, rid, error: notAnInteger(wrong) };
  return { ok: true, rid, op: op as Op, req: parsed.data as RequestOf<Op> };
}
