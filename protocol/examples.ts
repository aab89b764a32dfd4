/**
 * One worked example per HTTP operation, used in the OpenAPI document and checked against the
 * schemas by the tests, so the documentation cannot drift from the contract.
 */
const entry = (rank: number, user_id: number, username: string, total_score: number, games_played: number) => ({
  rank,
  user_id,
  username,
  total_score,
  games_played,
});

export const HTTP_EXAMPLES = {
  submit: {
    request: { user_id: 42, score: 1200, game_mode: 'ranked', username: 'nova', submission_id: 'match-8812-42' },
    reply: { success: true, user_id: 42, total_score: 58_400, games_played: 37, rank: 12, duplicate: false },
  },
  top: {
    query: { limit: 3, board: 'global' },
    reply: {
      board: 'global',
      top_players: [entry(1, 7, 'ace', 120_000, 80), entry(2, 9, 'kit', 99_000, 70), entry(2, 42, 'nova', 99_000, 61)],
    },
  },
  boards: {
    query: {},
    reply: {
      boards: ['global', 'mode:lap'],
      definitions: [
        { board: 'global', sort_order: 'desc', write_mode: 'sum', display: { format: 'points', unit: '', decimals: 0 }, windows: ['daily', 'weekly', 'monthly'], players: 1204 },
        { board: 'mode:lap', sort_order: 'asc', write_mode: 'best', display: { format: 'time_ms', unit: '', decimals: 0 }, windows: ['daily', 'weekly', 'monthly'], players: 311 },
      ],
    },
  },
  ranks: {
    query: { user_ids: [42, 9, 5, 7], board: 'global' },
    reply: { board: 'global', entries: [entry(1, 7, 'ace', 120_000, 80), entry(2, 9, 'kit', 99_000, 70), entry(2, 42, 'nova', 99_000, 61)], missing: [5] },
  },
  page: {
    query: { board: 'global', limit: 2, after_total: 120_000, after_user_id: 7 },
    reply: { board: 'global', entries: [entry(2, 9, 'kit', 99_000, 70), entry(2, 42, 'nova', 99_000, 61)], next: { total_score: 99_000, user_id: 42 } },
  },
  rank: {
    query: { user_id: 42, board: 'global' },
    reply: { board: 'global', user_id: 42, username: 'nova', rank: 2, total_score: 99_000, games_played: 61, percentile: 66.67, total_players: 3 },
  },
  around: {
    query: { user_id: 42, radius: 1, board: 'global' },
    reply: { board: 'global', entries: [entry(1, 7, 'ace', 120_000, 80), entry(2, 9, 'kit', 99_000, 70), entry(2, 42, 'nova', 99_000, 61)] },
  },
  history: {
    query: { user_id: 42, limit: 2, offset: 0 },
    reply: {
      user_id: 42,
      sessions: [
        { id: 9812, score: 1200, game_mode: 'ranked', timestamp: 1_795_459_000_000 },
        { id: 9544, score: 800, game_mode: 'casual', timestamp: 1_795_458_000_000 },
      ],
      total_sessions: 61,
    },
  },
  health: { reply: { status: 'healthy', database: 'connected', redis: 'connected' } },
  error: { reply: { error: { code: 'bad_request', message: 'score: must be <= 1000000000' } } },
} as const;
