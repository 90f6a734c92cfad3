/** Shared helpers for the host conformance tests. */
import { readFileSync } from 'node:fs';
import type { HeaderList, StreamInfo } from '../../deployer/src/host/api.js';
import { HostEmulator, type EmulatorOptions } from '../../deployer/src/host/testing/emulator.js';
import { builtTestFilter } from '../setup/paths.js';

export const GET: HeaderList = [[':method', 'GET'], [':path', '/items?id=7'], [':authority', 'shop.local'], [':scheme', 'http']];

export function withAction(action: string, extra: HeaderList = []): HeaderList {
  return [...GET, ['x-action', action], ...extra];
}

export function header(list: readonly (readonly [string, string])[], name: string): string | undefined {
  return list.find(([k]) => k === name)?.[1];
}

export function testFilter(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(builtTestFilter(name)));
}

export function conformance(options: Partial<EmulatorOptions> = {}): Promise<HostEmulator> {
  return HostEmulator.load({ wasm: testFilter('conformance'), rootId: 'conformance', name: 'conformance', ...options });
}

export const STREAM_INFO: StreamInfo = {
  connection: { id: 9, sourceAddress: '10.1.2.3', sourcePort: 5555, destinationAddress: '10.0.0.1', destinationPort: 8080 },
  protocol: 'HTTP/1.1',
  startTime: new Date(Date.UTC(2026, 0, 1)),
};

export const COMPLETION = { responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: '-', bytesReceived: 0, bytesSent: 0 } as const;

export function int64(hex: string): bigint {
  return Buffer.from(hex, 'hex').readBigInt64LE(0);
}
