/** Loads the built jwt-auth module into the host emulator and sends requests through it. */
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import type { HeaderList, NodeInfo } from '../../../deployer/src/host/api.js';
import { builtFilter } from '../../setup/paths.js';

export const NOW_S = 1_700_000_000;

export interface RequestResult {
  readonly action: string;
  readonly status?: number;
  readonly body?: string;
  readonly wwwAuthenticate?: string;
  readonly headers: [string, string][];
  readonly principal?: string;
  /** The verified token's iss (property `wasmesh.jwt.issuer`), beside the principal. */
  readonly issuer?: string;
  readonly payload?: string;
  readonly id: number;
}

export async function loadJwtAuth(config: unknown, options: { readonly startTimeMs?: number; readonly workers?: number; readonly node?: NodeInfo } = {}): Promise<HostEmulator> {
  return HostEmulator.load({
    ...(options.node ? { node: options.node } : {}),
    wasm: builtFilter('jwt-auth'), configuration: JSON.stringify(config), rootId: 'jwt-auth', name: 'jwt-auth',
    startTimeMs: options.startTimeMs ?? NOW_S * 1000, logLevel: 'debug', workers: options.workers ?? 1,
  });
}

const decoder = new TextDecoder();

export function outcome(emu: HostEmulator, id: number, action: string): RequestResult {
  const reply = emu.getSentLocalResponse(id);
  const state = (key: string): string | undefined => {
    const v = emu.getFilterState(id, key);
    return v === undefined ? undefined : decoder.decode(v);
  };
  return {
    id, action,
    ...(reply ? { status: reply.status, body: decoder.decode(reply.body), wwwAuthenticate: reply.headers.find(([n]) => n === 'www-authenticate')?.[1] } : {}),
    headers: reply ? [] : emu.getCurrentRequestHeaders(id),
    principal: state('wasm.wasmesh.jwt.principal'),
    issuer: state('wasm.wasmesh.jwt.issuer'),
    payload: state('wasm.wasmesh.jwt.payload'),
  };
}

export function send(emu: HostEmulator, path: string, extra: HeaderList = [], method = 'GET'): RequestResult {
  const id = emu.initializeHttpContext();
  const action = emu.callOnRequestHeaders(id, [[':method', method], [':path', path], [':authority', 'api.example'], [':scheme', 'https'], ...extra], true);
  return outcome(emu, id, action);
}

export const bearer = (token: string): HeaderList => [['authorization', `Bearer ${token}`]];
export const header = (r: RequestResult, name: string): string | undefined => r.headers.find(([n]) => n === name)?.[1];
