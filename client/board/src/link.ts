/**
 * What the status pill says. "Live" only once a fresh snapshot has arrived on an open connection:
 * an open socket that has not resynced yet is still showing old data.
 */
import type { Status } from '../../sdk/client.ts';

export type Link = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** Reconnecting for longer than this is shown as offline (the client keeps retrying). */
export const OFFLINE_AFTER_MS = 15_000;

export interface LinkInput {
  status: Status;
  /** A snapshot arrived since the connection (re)opened. */
  synced: boolean;
  /** When the last live connection was lost; undefined if it never was. */
  downSince: number | undefined;
  now: number;
  /** navigator.onLine */
  online: boolean;
}

export function linkState(s: LinkInput): Link {
  if (s.status === 'closed') return 'offline';
  if (s.status === 'open' && s.synced) return 'live';
  if (s.downSince === undefined) return s.online ? 'connecting' : 'offline';
  if (!s.online || s.now - s.downSince >= OFFLINE_AFTER_MS) return 'offline';
  return 'reconnecting';
}

export const LINK_TEXT: Record<Link, string> = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};
