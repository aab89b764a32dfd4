-- Committed updates the rank index may not have yet, recorded where the commit is.
--
-- Every batch of submits inserts one row here in the same statement (so the same transaction) as
-- its commit, naming the boards it wrote; the instance deletes the row once the rank index has
-- taken the batch's updates. A row that stays says "these boards may be behind PostgreSQL", and
-- it cannot be lost with Redis or with the instance: any instance rebuilds the boards of a row
-- whose owner is gone (its heartbeat in Redis expired) or that has waited too long, and a rebuild
-- clears its board from every row its snapshot could see (those commits are in the rebuild).
-- A batch retried row by row writes one row per commit under the same token.
CREATE TABLE index_pending (
  instance      text NOT NULL,
  token         bigint NOT NULL,
  boards        text[] NOT NULL,
  committed_at  timestamptz NOT NULL DEFAULT now()
) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);
