import net from 'node:net';

/** Raw HTTP/2 frames (RFC 9113 §4.1) for clients that misbehave on purpose. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
export const Flags = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK literal header fields without indexing, new names, no Huffman (RFC 7541 §6.2.2). */
export function hpack(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    parts.push(Buffer.from([0x00]), hpackString(name), hpackString(value));
  }
  return Buffer.concat(parts);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

function hpackInteger(value: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([value]);
  const out = [max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

export function requestHeaders(path: string, extra: readonly (readonly [string, string])[] = [], method = 'GET', authority = 'app'): Buffer {
  return hpack([[':method', method], [':scheme', 'http'], [':path', path], [':authority', authority], ...extra]);
}

export function rstStream(streamId: number, code = 0x8 /* CANCEL */): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** The client connection preface: magic + an empty SETTINGS frame. */
export function clientPreface(): Buffer {
  return Buffer.concat([H2_PREFACE, frame(FrameType.SETTINGS, 0, 0)]);
}

export interface RawResult {
  /** Everything the server wrote, as latin1 text (HTTP/1) or bytes (HTTP/2). */
  readonly data: Buffer;
  /** The server closed (or reset) the connection before the wait ended. */
  readonly closed: boolean;
}

/**
 * Opens a TCP connection, writes `chunks` (each a separate write, `gapMs` apart), and collects
 * what comes back until the server closes or `waitMs` passes.
 */
export function rawExchange(port: number, chunks: readonly Buffer[] | Buffer, options: { waitMs?: number; gapMs?: number; host?: string } = {}): Promise<RawResult> {
  const list = Buffer.isBuffer(chunks) ? [chunks] : chunks;
  return new Promise((resolve) => {
    const socket = net.connect(port, options.host ?? '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(received), closed });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 2000);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const chunk of list) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

/** Frame types the server sent, in order, read from raw HTTP/2 bytes (after its SETTINGS). */
export function framesIn(data: Buffer): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const frames: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 9 <= data.length) {
    const length = data.readUIntBE(at, 3);
    if (at + 9 + length > data.length) break;
    frames.push({ type: data[at + 3]!, flags: data[at + 4]!, streamId: data.readUInt32BE(at + 5) & 0x7fffffff, payload: data.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** The status line and body of a raw HTTP/1 response. */
export function parseHttp1(data: Buffer): { status: number; headers: string; body: string } {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head.toLowerCase(), body: end < 0 ? '' : text.slice(end + 4) };
}
