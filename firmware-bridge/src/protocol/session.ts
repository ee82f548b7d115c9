// Reliability rules shared by both ends of the link: sequence numbers,
// retransmission timing, NACK handling and duplicate suppression.
// Spec: firmware-bridge/PROTOCOL.md §6 (reliability) and §7 (errors).
// Pure: no timers or I/O here, only the rules, so the bridge, the device
// simulator and tests apply the same ones.

import { NackReason } from './frame.js';

/** §6.2: first ACK timeout, measured from the end of transmission. */
export const ACK_TIMEOUT_MS = 500;
/** §6.2: the ACK timeout doubles per attempt up to this cap. */
export const ACK_TIMEOUT_MAX_MS = 4000;
/** §6.2: transmissions of one frame (first + retransmissions) before the link counts as down. */
export const MAX_TRIES = 5;
/** §6.3: first back-off after NACK busy; doubles up to BUSY_BACKOFF_MAX_MS. */
export const BUSY_BACKOFF_MS = 1000;
export const BUSY_BACKOFF_MAX_MS = 30_000;
/** §6.4: PING interval while the link is down. */
export const LINK_PROBE_INTERVAL_MS = 5000;
/** §6.4: an idle device SHOULD PING this often. */
export const KEEPALIVE_INTERVAL_MS = 30_000;

/** §6.1: sequence numbers are u16 and wrap 65535 -> 0. */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0xffff;
}

/** §6.2: how long to wait for an ACK after transmission number `attempt` (1-based). */
export function ackTimeoutMs(attempt: number, base = ACK_TIMEOUT_MS, cap = ACK_TIMEOUT_MAX_MS): number {
  const a = Math.max(1, Math.floor(attempt));
  return Math.min(cap, base * 2 ** Math.min(a - 1, 30));
}

/** §6.3: what the sender of a sequenced frame does when it receives a NACK for it. */
export type NackAction =
  /** retransmit now with the same seq; counts as a try */
  | 'retransmit'
  /** wait (busy back-off), then retransmit with the same seq; does not count as a try */
  | 'backoff'
  /** (device) send HELLO first, then retransmit with the same seq */
  | 'hello'
  /** permanent: give the frame up, log it, continue with the next seq */
  | 'drop';

export function nackAction(reason: number): NackAction {
  switch (reason) {
    case NackReason.BadCrc:
    case NackReason.Oversize:
      return 'retransmit';
    case NackReason.Busy:
      return 'backoff';
    case NackReason.NotHello:
      return 'hello';
    default:
      return 'drop';
  }
}

export type SeqClass = 'new' | 'duplicate' | 'in-progress';

/**
 * §6.5: the receiver side of duplicate suppression for one peer (bridge: per
 * device for HELLO/DATA; device: for COMMAND). The window is one sequence
 * number, which is exact because each sender has at most one sequenced frame
 * outstanding; wrap-around needs no special case since only equality counts.
 */
export class DuplicateFilter {
  private last: number | null = null;
  private pending: number | null = null;

  /** seq of the last frame that was accepted and acknowledged, or null. */
  get lastSeq(): number | null {
    return this.last;
  }

  /** seq currently being processed (accepted, not yet acknowledged), or null. */
  get pendingSeq(): number | null {
    return this.pending;
  }

  /** new: process it; duplicate: ACK again without processing; in-progress: ignore (the ACK will follow). */
  classify(seq: number): SeqClass {
    if (seq === this.pending) return 'in-progress';
    if (seq === this.last) return 'duplicate';
    return 'new';
  }

  /** The frame was accepted for processing (e.g. handed to storage). */
  begin(seq: number): void {
    this.pending = seq;
  }

  /** Processing succeeded; the ACK is being sent. */
  commit(seq: number): void {
    this.last = seq;
    if (this.pending === seq) this.pending = null;
  }

  /** Processing failed (e.g. NACK busy); a retransmission will be treated as new. */
  abort(seq: number): void {
    if (this.pending === seq) this.pending = null;
  }

  /** New session (HELLO): forget history; optionally record the HELLO's own seq as the last one. */
  reset(seq: number | null = null): void {
    this.last = seq;
    this.pending = null;
  }
}
