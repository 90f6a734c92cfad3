/** A controllable clock and a timer scheduler driven by the emulator's tick(). */
import type { Clock, TimerHandle, TimerScheduler } from '../services.js';

export class ManualClock implements Clock {
  private nanos: bigint;
  constructor(startMs: number = Date.UTC(2026, 0, 1)) {
    this.nanos = BigInt(startMs) * 1_000_000n;
  }
  nowNanos(): bigint {
    return this.nanos;
  }
  monotonicNanos(): bigint {
    return this.nanos;
  }
  setTimeMs(ms: number): void {
    this.nanos = BigInt(ms) * 1_000_000n;
  }
  advanceMs(ms: number): void {
    this.nanos += BigInt(ms) * 1_000_000n;
  }
  get nowMs(): number {
    return Number(this.nanos / 1_000_000n);
  }
}

/** Timers that only fire when the test calls tick(). */
export class ManualTimers implements TimerScheduler {
  every(): TimerHandle {
    return { cancel: () => undefined };
  }
}
