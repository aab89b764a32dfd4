#!/usr/bin/env python3
"""A small client of the leaderboard server's WebSocket protocol, and a scripted tour of it.

The wire format: binary WebSocket frames, each one MessagePack map of standard types. A request
carries `op` and a client-chosen integer `rid`; its one reply carries the same `rid`, so requests
may be pipelined and replies matched by `rid`. Frames without a `rid` are pushes (`diff`,
`snapshot`) for a board the socket follows. The token travels in the handshake as the two
subprotocols `leaderboard.v1` and `bearer.<JWT>` (or, with --token-in query, as `?token=`).

Needs only Debian's python3-msgpack and python3-websockets (10.x or later, asyncio client).

    python3 leaderboard_client.py --token "$TOKEN" --user-id 42           # the tour, printed
    python3 leaderboard_client.py --token "$TOKEN" --user-id 42 --check   # the same, strict: exit 1
                                                                          # on any unexpected reply
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from typing import Any, Dict, Optional
from urllib.parse import urlsplit, urlunsplit, urlencode, parse_qsl

import msgpack
import websockets

SUBPROTOCOL = "leaderboard.v1"
BEARER_PREFIX = "bearer."
MAX_RID = 0xFFFF_FFFF  # rids are 0..2^32-1
PUSH_OPS = ("diff", "snapshot")

Frame = Dict[str, Any]


class LeaderboardError(Exception):
    """An `error` reply (code from the server's registry), or `timeout` / `disconnected` locally."""

    def __init__(self, code: str, message: str, retry_after_ms: Optional[int] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms


def pack(frame: Frame) -> bytes:
    # use_bin_type: str is MessagePack str and bytes is bin, the standard mapping. Python ints are
    # written as integers of the smallest width; never send a float where an integer is meant
    # (5.0 for a score is refused as bad_request).
    return msgpack.packb(frame, use_bin_type=True)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


def with_query_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Client:
    """One socket: request() sends a frame and awaits the reply with its rid; pushes are queued."""

    def __init__(self, ws: Any, timeout: float):
        self._ws = ws
        self._timeout = timeout
        self._next_rid = 1
        self._pending: Dict[int, asyncio.Future] = {}
        self.pushes: asyncio.Queue = asyncio.Queue()
        # Error frames the server could not tie to a request (it could not read the frame's rid).
        self.unmatched: list = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, token: Optional[str] = None, token_in: str = "protocol",
                      timeout: float = 10.0) -> "Client":
        subprotocols = [SUBPROTOCOL]
        if token and token_in == "protocol":
            subprotocols.append(BEARER_PREFIX + token)
        elif token:
            url = with_query_token(url, token)
        # The server pings; the library answers on its own. Frames are at most 4096 bytes upstream.
        ws = await websockets.connect(url, subprotocols=subprotocols, open_timeout=timeout,
                                      max_size=1 << 20)
        return cls(ws, timeout)

    @property
    def subprotocol(self) -> Optional[str]:
        return self._ws.subprotocol

    async def request(self, op: str, **fields: Any) -> Frame:
        """The reply's payload (without `op` and `rid`); raises LeaderboardError on an error reply."""
        rid = self._next_rid
        self._next_rid = 1 if rid >= MAX_RID else rid + 1
        reply = asyncio.get_running_loop().create_future()
        self._pending[rid] = reply
        try:
            await self._ws.send(pack({**fields, "op": op, "rid": rid}))
            frame = await asyncio.wait_for(reply, self._timeout)
        except asyncio.TimeoutError:
            raise LeaderboardError("timeout", f"{op} got no reply within {self._timeout} s") from None
        except websockets.exceptions.ConnectionClosed as closed:
            raise LeaderboardError("disconnected", f"connection closed ({closed})") from None
        finally:
            self._pending.pop(rid, None)
        if frame.get("op") == "error":
            raise LeaderboardError(frame.get("code", "internal"), frame.get("message", ""),
                                   frame.get("retry_after_ms"))
        return {k: v for k, v in frame.items() if k not in ("op", "rid")}

    async def next_push(self, timeout: float) -> Frame:
        """The next `diff` or `snapshot` frame; asyncio.TimeoutError if none comes in time."""
        return await asyncio.wait_for(self.pushes.get(), timeout)

    async def close(self) -> None:
        await self._ws.close()
        await self._reader

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                frame = self._decode(message)
                waiter = self._pending.get(frame.get("rid")) if frame is not None else None
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
                elif frame is not None and frame.get("op") in PUSH_OPS:
                    self.pushes.put_nowait(frame)
                else:
                    # An error without a rid answers a frame the server could not read at all.
                    self.unmatched.append(frame if frame is not None else message)
                    print(f"frame matching no request: {frame if frame is not None else message!r}",
                          file=sys.stderr)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            gone = LeaderboardError("disconnected", "connection closed")
            for waiter in self._pending.values():
                if not waiter.done():
                    waiter.set_exception(gone)

    @staticmethod
    def _decode(message: Any) -> Optional[Frame]:
        """A frame as the protocol defines it (a binary MessagePack map), else None."""
        if not isinstance(message, bytes):
            return None
        try:
            frame = unpack(message)
        except ValueError as err:  # msgpack's ExtraData, FormatError, StackError are ValueErrors
            print(f"undecodable frame ({err})", file=sys.stderr)
            return None
        return frame if isinstance(frame, dict) else None


class CheckFailed(Exception):
    pass


def show_entries(entries: list) -> str:
    return ", ".join(f"#{e['rank']} {e['username']} ({e['user_id']}) {e['total_score']}"
                     for e in entries) or "(empty)"


class Tour:
    """The scripted scenario. With check=True every surprise is fatal; otherwise it is a warning."""

    def __init__(self, client: Client, args: argparse.Namespace):
        self.lb = client
        self.args = args
        self.board = f"mode:{args.game_mode}"
        self.epoch: Any = None
        self.seq = -1
        self.view: Dict[int, Frame] = {}

    def expect(self, ok: bool, what: str) -> None:
        if ok:
            return
        if self.args.check:
            raise CheckFailed(what)
        print(f"  warning: {what}")

    async def run(self) -> None:
        a = self.args
        print(f"connected, subprotocol {self.lb.subprotocol!r}")
        self.expect(self.lb.subprotocol == SUBPROTOCOL, f"server answered subprotocol {self.lb.subprotocol!r}")

        # Follow the board first, so the submits below show up as diffs.
        sub = await self.lb.request("subscribe", board=self.board, limit=a.limit)
        self.reset(sub, "subscribe")

        fields = {"user_id": a.user_id, "score": a.score, "game_mode": a.game_mode,
                  "submission_id": a.submission_id}
        if a.username:
            fields["username"] = a.username
        first = await self.lb.request("submit", **fields)
        print(f"submit {a.submission_id}: total {first['total_score']}, rank {first['rank']}, "
              f"games {first['games_played']}, duplicate {first['duplicate']}")
        self.expect(first["duplicate"] is False, "a fresh submission_id was answered as a duplicate")
        self.expect(first["user_id"] == a.user_id, f"submit answered for user {first['user_id']}")

        # A retry (after a timeout or a lost connection) is safe: the same submission_id is not
        # counted twice, and the reply says so with the current totals.
        retry = await self.lb.request("submit", **fields)
        print(f"retry  {a.submission_id}: total {retry['total_score']}, duplicate {retry['duplicate']}")
        self.expect(retry["duplicate"] is True, "the retry was not answered duplicate: true")
        self.expect(retry["total_score"] == first["total_score"], "the retry changed the total")

        # Pipelined: three requests in flight at once, each reply found by its rid.
        rank, top, around = await asyncio.gather(
            self.lb.request("rank", user_id=a.user_id, board="global"),
            self.lb.request("top", board=self.board, limit=10),
            self.lb.request("around", user_id=a.user_id, board=self.board, radius=2),
        )
        print(f"rank on global: #{rank['rank']} of {rank['total_players']}, total {rank['total_score']}, "
              f"percentile {rank['percentile']}")
        self.expect(rank["user_id"] == a.user_id and rank["total_score"] == first["total_score"],
                    "rank on global disagrees with the submit's total")
        print(f"top of {top['board']}: {show_entries(top['entries'])}")
        self.expect(top["board"] == self.board, f"top answered for board {top['board']}")
        ranks = [e["rank"] for e in top["entries"]]
        self.expect(ranks == sorted(ranks), "top is not in rank order")
        print(f"around {a.user_id}: {show_entries(around['entries'])}")
        self.expect(any(e["user_id"] == a.user_id for e in around["entries"]), "around does not list the user")

        history = await self.lb.request("history", user_id=a.user_id, limit=5)
        print(f"history of {a.user_id}: {history['total_sessions']} sessions, latest "
              + ", ".join(f"{s['score']} in {s['game_mode']}" for s in history["sessions"]))
        latest = history["sessions"][0] if history["sessions"] else {}
        self.expect(latest.get("score") == a.score and latest.get("game_mode") == a.game_mode,
                    "history does not start with the submit")

        # Errors come back under the request's rid. A float where an integer belongs is refused:
        # the one mistake a Python client makes easily (a score read from JSON as 5.0).
        for bad in ({"limit": 1000}, {"limit": 10.0}):
            try:
                await self.lb.request("top", board=self.board, **bad)
                self.expect(False, f"top with {bad} was accepted")
            except LeaderboardError as err:
                print(f"top with {bad}: {err}")
                self.expect(err.code == "bad_request", f"top with {bad} answered {err.code}")

        await self.follow(a.diffs)
        left = await self.lb.request("unsubscribe", board=self.board)
        self.expect(left.get("board") == self.board, "unsubscribe answered for another board")
        self.expect(not self.lb.unmatched, f"{len(self.lb.unmatched)} frame(s) matched no request")

    async def follow(self, wanted: int) -> None:
        """Prints `wanted` diffs, submitting more scores for the user whenever none is queued."""
        seen = more = 0
        while seen < wanted:
            if self.lb.pushes.empty():
                more += 1
                await self.lb.request("submit", user_id=self.args.user_id, score=10 * more,
                                      game_mode=self.args.game_mode,
                                      submission_id=f"{self.args.submission_id}-more-{more}")
            try:
                frame = await self.lb.next_push(self.args.push_timeout)
            except asyncio.TimeoutError:
                self.expect(False, f"no diff within {self.args.push_timeout} s (is the user in the top "
                                   f"{self.args.limit} of {self.board}?)")
                return
            if frame["op"] == "snapshot":
                self.reset(frame, "snapshot")
                continue
            seen += 1
            self.apply(frame)

    def reset(self, snap: Frame, what: str) -> None:
        # The subscribe reply is the first snapshot; a pushed `snapshot` replaces the view (after
        # a resync, or a new epoch when a time window rolls over).
        self.epoch, self.seq = snap["epoch"], snap["seq"]
        self.view = {e["user_id"]: e for e in snap["entries"]}
        final = " (final)" if snap.get("final") else ""
        print(f"{what} {snap['board']}{final}: epoch {snap['epoch']!r} seq {snap['seq']}: "
              f"{show_entries(snap['entries'])}")

    def apply(self, diff: Frame) -> None:
        # A diff continues the view only in the same epoch with the next seq; otherwise a client
        # resubscribes (the JS SDK does this by itself).
        self.expect(diff["board"] == self.board, f"diff for board {diff['board']}")
        self.expect(diff["epoch"] == self.epoch and diff["seq"] == self.seq + 1,
                    f"diff epoch {diff['epoch']!r} seq {diff['seq']} does not follow "
                    f"epoch {self.epoch!r} seq {self.seq}")
        self.seq = diff["seq"]
        for user_id in diff["removed"]:
            self.view.pop(user_id, None)
        for e in diff["entries"]:
            self.view[e["user_id"]] = e
        rows = sorted(self.view.values(), key=lambda e: (e["rank"], e["user_id"]))
        print(f"diff seq {diff['seq']}: changed {show_entries(diff['entries'])}; "
              f"removed {diff['removed']}; now {show_entries(rows)}")


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Example client of the leaderboard server (WebSocket + MessagePack).")
    p.add_argument("--url", default=os.environ.get("LEADERBOARD_URL", "ws://127.0.0.1:8000/ws"),
                   help="WebSocket URL (default $LEADERBOARD_URL or ws://127.0.0.1:8000/ws)")
    p.add_argument("--token", default=os.environ.get("LEADERBOARD_TOKEN"),
                   help="JWT allowed to submit for --user-id (default $LEADERBOARD_TOKEN); "
                        "npm run token -- --role server")
    p.add_argument("--token-in", choices=("protocol", "query"), default="protocol",
                   help="send the token as a bearer subprotocol (default) or as ?token=")
    p.add_argument("--user-id", type=int, default=42)
    p.add_argument("--username", help="a name to take with the submit (default: keep the current one)")
    p.add_argument("--game-mode", default="python-example", help="mode to submit in; the tour follows mode:<it>")
    p.add_argument("--score", type=int, default=1200)
    p.add_argument("--submission-id", default=None, help="default: a fresh random one")
    p.add_argument("--limit", type=int, default=5, help="rows of the followed top N")
    p.add_argument("--diffs", type=int, default=3, help="diff frames to wait for and print")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply")
    p.add_argument("--push-timeout", type=float, default=5.0, help="seconds to wait for a diff")
    p.add_argument("--check", action="store_true", help="exit 1 on any unexpected reply (for CI)")
    args = p.parse_args(argv)
    if not args.token:
        p.error("a token is needed to submit: --token or $LEADERBOARD_TOKEN")
    if args.submission_id is None:
        args.submission_id = f"py-{uuid.uuid4().hex[:16]}"
    return args


async def main(args: argparse.Namespace) -> int:
    try:
        client = await Client.connect(args.url, args.token, args.token_in, args.timeout)
    except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake) as err:
        # A refused token is a refused upgrade (HTTP 401), reported here as an invalid status.
        print(f"cannot connect to {args.url}: {err}", file=sys.stderr)
        return 1
    try:
        await Tour(client, args).run()
    except CheckFailed as err:
        print(f"check failed: {err}", file=sys.stderr)
        return 1
    except LeaderboardError as err:
        print(f"unexpected reply: {err}", file=sys.stderr)
        return 1
    finally:
        await client.close()
    if args.check:
        print("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
