import type { HcmConfig } from './config.js';

/** Which of Envoy's per-stream timers fired, with its reply (source/common/http/conn_manager_impl.cc). */
export interface StreamTimeout {
  readonly status: 408;
  readonly body: string;
  readonly details: string;
  /** Response flag, as StreamInfo::ResponseFlagUtils prints it ('' = none). */
  readonly flag: string;
  readonly stat: 'downstreamRqIdleTimeout' | 'downstreamRqTimeout' | 'downstreamRqMaxDurationReached';
}

/** onIdleTimeout: 408 "stream timeout", stream_idle_timeout, SI. */
const IDLE: StreamTimeout = { status: 408, body: 'stream timeout', details: 'stream_idle_timeout', flag: 'SI', stat: 'downstreamRqIdleTimeout' };
/** onRequestTimeout: 408 "request timeout", request_overall_timeout. */
const REQUEST: StreamTimeout = { status: 408, body: 'request timeout', details: 'request_overall_timeout', flag: '', stat: 'downstreamRqTimeout' };
/** onStreamMaxDurationReached: 408 "downstream duration timeout", max_duration_timeout, DT. */
const MAX_DURATION: StreamTimeout = { status: 408, body: 'downstream duration timeout', details: 'max_duration_timeout', flag: 'DT', stat: 'downstreamRqMaxDurationReached' };

/** One stream's clock, as the registry sees it. */
export interface TimedStream {
  /** The timeouts the stream started under (a reload changes them for later streams only). */
  readonly timeouts: Pick<HcmConfig, 'streamIdleTimeoutMs' | 'requestTimeoutMs' | 'maxStreamDurationMs'>;
  startedAt: number;
  lastActivity: number;
  /** Request fully received (disarms request_timeout). */
  requestComplete: boolean;
  onTimeout(timeout: StreamTimeout): void;
}

/**
 * Envoy's stream_idle_timeout, request_timeout and max_stream_duration for every active stream,
 * checked by one coarse periodic sweep instead of a timer per request: a request costs a Set
 * insert and delete, and activity is a timestamp store. The sweep period is a quarter of the
 * shortest timeout (50 ms – 1 s), so a timeout fires at most that late.
 */
export class StreamDeadlines {
  private readonly streams = new Set<TimedStream>();
  private timer: NodeJS.Timeout | undefined;
  private periodMs: number;

  constructor(config: HcmConfig) {
    this.periodMs = sweepPeriod(config);
  }

  /** Live reload: streams added from now on may have other timeouts; sweep often enough for the shortest. */
  update(config: HcmConfig): void {
    const period = Math.min(this.periodMs, sweepPeriod(config));
    if (period === this.periodMs) return;
    this.periodMs = period;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  add(stream: TimedStream): void {
    const t = stream.timeouts;
    if (t.streamIdleTimeoutMs <= 0 && t.requestTimeoutMs <= 0 && t.maxStreamDurationMs <= 0) return;
    this.streams.add(stream);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  delete(stream: TimedStream): void {
    this.streams.delete(stream);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.streams.clear();
  }

  private sweep(): void {
    const now = performance.now();
    for (const stream of this.streams) {
      const { streamIdleTimeoutMs: idle, requestTimeoutMs: request, maxStreamDurationMs: max } = stream.timeouts;
      let fired: StreamTimeout | undefined;
      if (max > 0 && now - stream.startedAt >= max) fired = MAX_DURATION;
      else if (request > 0 && !stream.requestComplete && now - stream.startedAt >= request) fired = REQUEST;
      else if (idle > 0 && now - stream.lastActivity >= idle) fired = IDLE;
      if (!fired) continue;
      this.streams.delete(stream);
      stream.onTimeout(fired);
    }
  }
}

/** A quarter of the shortest timeout, 50 ms – 1 s. */
function sweepPeriod(config: HcmConfig): number {
  const shortest = Math.min(...[config.streamIdleTimeoutMs, config.requestTimeoutMs, config.maxStreamDurationMs].filter((t) => t > 0), 4000);
  return Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
}
