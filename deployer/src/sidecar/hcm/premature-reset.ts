import type http2 from 'node:http2';

/** Runtime defaults of Envoy's premature-reset check (overload.premature_reset_*). */
const TOTAL_STREAM_COUNT = 500;
const MIN_STREAM_LIFETIME_MS = 1000;

/**
 * HTTP/2 rapid reset (CVE-2023-44487) as Envoy answers it
 * (source/common/http/conn_manager_impl.cc maybeDrainDueToPrematureResets): a stream the client
 * resets within a second of opening is premature; once at least half of the connection's closed
 * streams were premature — counted against 500 streams, or against the closed total past 500 —
 * the connection is aborted. nghttp2's own stream-reset rate limit stays on as well.
 */
export function trackPrematureResets(session: http2.Http2Session, onClose: () => void): void {
  let closed = 0;
  let premature = 0;
  let closing = false;
  session.on('stream', (stream: http2.Http2Stream) => {
    const openedAt = performance.now();
    let resetByPeer = false;
    stream.once('aborted', () => { resetByPeer = true; });
    stream.once('close', () => {
      closed++;
      if (resetByPeer && performance.now() - openedAt < MIN_STREAM_LIFETIME_MS) premature++;
      const limit = closed < TOTAL_STREAM_COUNT ? TOTAL_STREAM_COUNT : closed;
      if (premature * 2 < limit || closing || session.destroyed) return;
      closing = true;
      onClose();
      // Not from inside nghttp2's frame callbacks: destroying the session there trips node's
      // nghttp2 memory accounting (node_http2.cc CheckAllocatedSize) and aborts the process.
      setImmediate(() => session.destroy());
    });
  });
}
