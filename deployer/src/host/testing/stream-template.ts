/**
 * The connection facts of streams the emulator creates, set with setProperty() the way a test
 * would describe a downstream connection (peer address, mTLS certificate, SNI, protocol).
 */
import type { ConnectionInfo, HttpProtocol, StreamInfo, TlsInfo } from '../api.js';
import { FILTER_STATE_PREFIX } from '../abi/properties.js';

const encoder = new TextEncoder();

function splitHostPort(value: string): [string, number | undefined] {
  const bracket = /^\[(.*)\]:(\d+)$/.exec(value);
  if (bracket) return [bracket[1]!, Number(bracket[2])];
  const plain = /^([^:]+):(\d+)$/.exec(value);
  if (plain) return [plain[1]!, Number(plain[2])];
  return [value, undefined];
}

function port(path: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${path} ${JSON.stringify(text)}: expected a port number 0-65535`);
  return value;
}

export class StreamTemplate {
  private connection: { -readonly [K in keyof ConnectionInfo]: ConnectionInfo[K] } = {
    id: 1, sourceAddress: '127.0.0.1', sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 15006,
  };
  private protocol: HttpProtocol = 'HTTP/1.1';
  private peer: { uriSans: string[]; dnsSans: string[]; subject: string } | undefined;
  private sni: string | undefined;
  private tlsVersion: string | undefined;
  /** Extra filter state (`wasm.<path>`) every new stream starts with. */
  readonly filterState = new Map<string, Uint8Array>();

  /**
   * `source.address` ("ip" or "ip:port"), `source.port`, `destination.address`,
   * `destination.port`, `connection.id`, `connection.uri_san_peer_certificate`,
   * `connection.dns_san_peer_certificate`, `connection.subject_peer_certificate` (these three make
   * the connection mTLS), `connection.requested_server_name`, `connection.tls_version`,
   * `request.protocol`. Any other path becomes filter state `wasm.<path>`.
   */
  setProperty(path: string, value: string | Uint8Array): void {
    const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
    const peer = () => (this.peer ??= { uriSans: [], dnsSans: [], subject: '' });
    switch (path) {
      case 'source.address': {
        const [ip, p] = splitHostPort(text);
        this.connection.sourceAddress = ip;
        if (p !== undefined) this.connection.sourcePort = port(path, String(p));
        return;
      }
      case 'destination.address': {
        const [ip, p] = splitHostPort(text);
        this.connection.destinationAddress = ip;
        if (p !== undefined) this.connection.destinationPort = port(path, String(p));
        return;
      }
      case 'source.port': this.connection.sourcePort = port(path, text); return;
      case 'destination.port': this.connection.destinationPort = port(path, text); return;
      case 'connection.id': {
        const id = Number(text);
        if (!Number.isSafeInteger(id) || id < 0) throw new Error(`connection.id ${JSON.stringify(text)}: expected a non-negative integer`);
        this.connection.id = id;
        return;
      }
      case 'connection.uri_san_peer_certificate': peer().uriSans = [text]; return;
      case 'connection.dns_san_peer_certificate': peer().dnsSans = [text]; return;
      case 'connection.subject_peer_certificate': peer().subject = text; return;
      case 'connection.requested_server_name': this.sni = text; return;
      case 'connection.tls_version': this.tlsVersion = text; return;
      case 'request.protocol':
        if (text !== 'HTTP/1.0' && text !== 'HTTP/1.1' && text !== 'HTTP/2') throw new Error(`request.protocol ${JSON.stringify(text)}: expected HTTP/1.0, HTTP/1.1 or HTTP/2`);
        this.protocol = text;
        return;
      default:
        this.filterState.set(FILTER_STATE_PREFIX + path, typeof value === 'string' ? encoder.encode(value) : value.slice());
    }
  }

  streamInfo(overrides: Partial<StreamInfo> | undefined, now: Date): StreamInfo {
    let tls: TlsInfo | undefined;
    if (this.peer !== undefined || this.sni !== undefined || this.tlsVersion !== undefined) {
      tls = {
        ...(this.peer ? { peerCertificate: { uriSans: this.peer.uriSans, dnsSans: this.peer.dnsSans, subject: this.peer.subject } } : {}),
        ...(this.sni !== undefined ? { requestedServerName: this.sni } : {}),
        ...(this.tlsVersion !== undefined ? { tlsVersion: this.tlsVersion } : {}),
      };
    }
    return {
      connection: overrides?.connection ?? { ...this.connection, ...(tls ? { tls } : {}) },
      protocol: overrides?.protocol ?? this.protocol,
      startTime: overrides?.startTime ?? now,
      ...(overrides?.bufferLimitBytes !== undefined ? { bufferLimitBytes: overrides.bufferLimitBytes } : {}),
    };
  }
}
