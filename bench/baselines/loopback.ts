/** The bench sends load only to this machine: a guard for every host it is given (pure). */

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('/')) return true; // a Unix socket directory (PostgreSQL)
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function assertLoopback(host: string, what: string): void {
  if (!isLoopbackHost(host)) throw new Error(`${what}: the bench only targets loopback addresses, not ${JSON.stringify(host)}`);
}
