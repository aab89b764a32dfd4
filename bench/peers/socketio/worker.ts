/**
 * A load thread of the peer bench: opens its sockets, says `ready`, then runs its share when told
 * `go` and answers with its measurements. See threads.ts for the other side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SpectatorGroup } from './spectators.ts';
import { SubmitGroup, type SubmitRun } from './submitters.ts';

export type ThreadSetup =
  | { kind: 'submit'; ports: number[]; count: number; offset: number }
  | { kind: 'spectate'; ports: number[]; count: number; offset: number; sentAt: SharedArrayBuffer; userBase: number };

export type ToThread =
  | ({ type: 'go' } & SubmitRun)
  | { type: 'go'; start: number; end: number }
  | { type: 'finish'; sent: number; drainUntil: number };

export type FromThread<P> = { type: 'ready' } | { type: 'result'; part: P } | { type: 'error'; message: string };

async function main(setup: ThreadSetup): Promise<void> {
  const port = parentPort!;
  const fail = (err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  if (setup.kind === 'submit') {
    const group = await SubmitGroup.open(setup.ports, setup.count, setup.offset);
    port.on('message', (m: ToThread) => {
      if (m.type !== 'go' || !('inflight' in m)) return;
      group.run(m).then((part) => {
        group.close();
        port.postMessage({ type: 'result', part }, [part.latencies.buffer as ArrayBuffer]);
      }, fail);
    });
  } else {
    const group = await SpectatorGroup.open(setup.ports, setup.count, setup.offset, { sentAt: new Float64Array(setup.sentAt), userBase: setup.userBase });
    port.on('message', (m: ToThread) => {
      if (m.type === 'go') group.begin(m.start, m.end);
      else if (m.type === 'finish') {
        group.finish(m.sent, m.drainUntil).then((part) => port.postMessage({ type: 'result', part }, [part.latencies.buffer as ArrayBuffer]), fail);
      }
    });
  }
  port.postMessage({ type: 'ready' });
}

if (parentPort) {
  main(workerData as ThreadSetup).catch((err: unknown) => {
    parentPort!.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  });
}
