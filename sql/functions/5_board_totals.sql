-- board_totals: every board's rows as totals (board_rows, sql/008, holds sort keys: minus the
-- total on an `asc` board, sql/009), with the board's order: for operators' queries, tools and
-- tests. The server does this translation itself (server/board-kinds.ts). A window board has its
-- family's order.
-- Re-applied at every start (server/store/migrate.ts): edit it here, in place.
CREATE OR REPLACE VIEW board_totals AS
  SELECT r.board, r.user_id,
         CASE WHEN b.sort_order = 'asc' THEN 0 - r.total_score ELSE r.total_score END AS total_score,
         r.games_played, r.last_played_at, coalesce(b.sort_order, 'desc') AS sort_order
  FROM board_rows r
  LEFT JOIN boards b ON b.board = lb_family(r.board);
