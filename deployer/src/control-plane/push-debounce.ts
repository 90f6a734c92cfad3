/**
 * When a configuration change is pushed. Istio debounces every change (pilot/pkg/xds/discovery.go
 * `debounce`: push once no event came for PILOT_DEBOUNCE_AFTER, 100 ms, or PILOT_DEBOUNCE_MAX,
 * 10 s, after the first one), so even a lone edit waits the full quiet period. Here a change that
 * finds the control plane quiet — nothing requested or pushed for `afterMs` — is pushed on the
 * leading edge (on the next turn of the event loop, so changes made in the same turn still go
 * together); changes arriving within `afterMs` of the last activity are coalesced Istio's way:
 * one push once `afterMs` pass without another, or `maxMs` after the first of them under a
 * constant stream.
 */
export interface PushDebounceOptions {
  readonly afterMs: number;
  readonly maxMs: number;
  /** Test seam. */
  readonly now?: () => number;
}

export class PushDebouncer {
  private timer: NodeJS.Timeout | undefined;
  /** When the first change not yet pushed arrived. */
  private pendingSince: number | undefined;
  private lastActivity = Number.NEGATIVE_INFINITY;
  private leading = false;
  private readonly now: () => number;

  constructor(private readonly options: PushDebounceOptions, private readonly push: () => void) {
    if (!(options.afterMs >= 0) || !(options.maxMs >= options.afterMs)) {
      throw new Error(`push debounce: after ${options.afterMs} ms, max ${options.maxMs} ms: expected 0 ≤ after ≤ max`);
    }
    this.now = options.now ?? Date.now;
  }

  /** A change to push. */
  request(): void {
    const now = this.now();
    const quiet = this.pendingSince === undefined && now - this.lastActivity >= this.options.afterMs;
    this.lastActivity = now;
    if (quiet) {
      this.pendingSince = now;
      this.leading = true;
      this.schedule(0);
      return;
    }
    // A leading push already scheduled for this turn takes this change with it.
    if (this.leading) return;
    this.pendingSince ??= now;
    this.schedule(Math.max(0, Math.min(this.options.afterMs, this.pendingSince + this.options.maxMs - now)));
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Push what is pending now (tests, shutdown). */
  flush(): void {
    if (this.timer) this.fire();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingSince = undefined;
    this.leading = false;
  }

  private schedule(waitMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), waitMs);
    this.timer.unref?.();
  }

  private fire(): void {
    this.close();
    this.lastActivity = this.now();
    this.push();
  }
}
