/**
 * Limits on opening sockets, per instance: total sockets, sockets per client address, and upgrades
 * per second per address. Trusted callers (server/admin tokens) are exempt from the per-address
 * limits: a game server legitimately opens many sockets from one address.
 */
import { AppError } from '../errors.ts';
import { BucketMap } from './token-bucket.ts';

export interface ConnectionLimits {
  maxSockets: number;
  maxPerIp: number;
  upgradeRatePerIp: number;
  upgradeBurstPerIp: number;
}

export class ConnectionGuard {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly upgrades: BucketMap;
  private readonly refusals: BucketMap;

  constructor(private readonly limits: ConnectionLimits) {
    this.upgrades = new BucketMap(limits.upgradeRatePerIp, limits.upgradeBurstPerIp);
    this.refusals = new BucketMap(limits.upgradeRatePerIp, limits.upgradeBurstPerIp);
  }

  /** The reason an upgrade from `ip` is refused now, or undefined to let it through. */
  check(ip: string, trusted: boolean, now: number): AppError | undefined {
    if (this.total >= this.limits.maxSockets) return new AppError('unavailable', 'this instance is at its socket limit; retry on another', { retryAfterMs: 1000 });
    if (trusted) return undefined;
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxPerIp) {
      return new AppError('rate_limited', `at most ${this.limits.maxPerIp} sockets per client address`, { retryAfterMs: 5000 });
    }
    if (this.limits.upgradeRatePerIp > 0) {
      const wait = this.upgrades.take(ip, now);
      if (wait > 0) return new AppError('rate_limited', 'too many connection attempts', { retryAfterMs: wait });
    }
    return undefined;
  }

  /**
   * An address whose upgrades keep failing authentication gets 429 before its next token is even
   * verified (a verification costs a signature check, an RS256/ES256 one with JWKS keys): refused
   * attempts spend a bucket of their own at the upgrade rate. Undefined: go ahead and verify.
   */
  refusing(ip: string, now: number): AppError | undefined {
    if (this.limits.upgradeRatePerIp <= 0) return undefined;
    const wait = this.refusals.wait(ip, now);
    return wait > 0 ? new AppError('rate_limited', 'too many refused connection attempts from this address', { retryAfterMs: wait }) : undefined;
  }

  /** An upgrade from `ip` was refused as unauthorized. */
  refused(ip: string, now: number): void {
    if (this.limits.upgradeRatePerIp > 0) this.refusals.take(ip, now);
  }

  opened(ip: string): void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** Forgets idle upgrade buckets. */
  sweep(now: number): void {
    this.upgrades.sweep(now);
    this.refusals.sweep(now);
  }
}

/**
 * The client's address: the socket's peer, or with a trusted proxy the last X-Forwarded-For hop
 * (the one our own load balancer appended; earlier hops are the client's to forge).
 */
export function clientAddress(peer: string, forwardedFor: string, trustProxy: boolean): string {
  if (!trustProxy || !forwardedFor) return peer;
  const hops = forwardedFor.split(',');
  return hops[hops.length - 1]!.trim() || peer;
}
