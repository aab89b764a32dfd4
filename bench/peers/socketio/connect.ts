/** Socket.IO client sockets to the peer, one connection each, spread over its instances. */
import { io, type Socket } from 'socket.io-client';

export const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_CONCURRENCY = 50;

function connectOne(port: number): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true, // one connection per socket, not one multiplexed Manager for all
    reconnection: false, // a lost socket shows as errors, not as a hidden retry
    timeout: CONNECT_TIMEOUT_MS,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(new Error(`peer on port ${port}: ${err.message}`));
    });
  });
}

/**
 * `n` sockets; socket i goes to ports[(offset + i) % ports.length], so that threads given
 * consecutive offsets spread evenly. On any failure, closes those opened and throws.
 */
export async function connectAll(ports: readonly number[], n: number, offset = 0): Promise<Socket[]> {
  if (ports.length === 0) throw new Error('no peer ports given');
  const sockets: Socket[] = [];
  let next = 0;
  let failure: Error | undefined;
  const opener = async () => {
    while (next < n && !failure) {
      const i = next++;
      try {
        sockets.push(await connectOne(ports[(offset + i) % ports.length]!));
      } catch (err) {
        failure = err as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, opener));
  if (failure) {
    closeAll(sockets);
    throw failure;
  }
  return sockets;
}

export function closeAll(sockets: readonly Socket[]): void {
  for (const s of sockets) s.disconnect();
}
