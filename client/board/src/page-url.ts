/**
 * The page's address: where the socket is (same origin, `/ws`) and which board and limit the
 * viewer chose, kept in the query string so a lobby screen can be bookmarked on its board.
 */
import { GLOBAL_BOARD, isBoardId } from '../../../protocol/board.ts';
import { SUBSCRIBE_LIMIT } from '../../../protocol/limits.ts';

/** The top N sizes offered; any other `?limit=` in the address is refused. */
export const LIMITS = [10, 25, 50, 100] as const;

export function socketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

export interface ViewParams {
  board: string;
  limit: number;
}

export function readViewParams(search: string): ViewParams {
  const q = new URLSearchParams(search);
  const board = q.get('board') ?? '';
  const limit = Number(q.get('limit'));
  return {
    board: isBoardId(board) ? board : GLOBAL_BOARD,
    limit: (LIMITS as readonly number[]).includes(limit) ? limit : SUBSCRIBE_LIMIT.default,
  };
}

/** The query string for `p`, omitting defaults so the plain address stays plain. */
export function writeViewParams(search: string, p: ViewParams): string {
  const q = new URLSearchParams(search);
  if (p.board === GLOBAL_BOARD) q.delete('board');
  else q.set('board', p.board);
  if (p.limit === SUBSCRIBE_LIMIT.default) q.delete('limit');
  else q.set('limit', String(p.limit));
  const s = q.toString();
  return s ? `?${s}` : '';
}
