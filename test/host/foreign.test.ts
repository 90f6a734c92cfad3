import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WasmResult } from '../../deployer/src/host/abi/constants.js';
import { decode, encode, VerifySignatureArgumentsType, VerifySignatureResultType, SetEnvoyFilterStateArgumentsType, DeclarePropertyArgumentsType } from '../../deployer/src/host/abi/proto.js';
import { conformance, header, withAction } from './helpers.js';

const text = Buffer.from('header.payload');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

const der = (key: KeyObject) => key.export({ format: 'der', type: 'spki' });
const pem = (key: KeyObject) => String(key.export({ format: 'pem', type: 'spki' }));

interface VerifyCase {
  name: string;
  args: Record<string, unknown>;
  result: boolean;
  error: string;
}

const cases: VerifyCase[] = [
  { name: 'RSA PKCS#1 v1.5 sha256, DER key', args: { hash_function: 'sha256', public_key: der(rsa.publicKey), signature: sign('sha256', text, rsa.privateKey), text }, result: true, error: '' },
  { name: 'RSA sha512, PEM key', args: { hash_function: 'sha512', public_key_pem: pem(rsa.publicKey), signature: sign('sha512', text, rsa.privateKey), text }, result: true, error: '' },
  { name: 'ECDSA P-256 sha256 (DER signature), PEM key', args: { hash_function: 'sha256', public_key_pem: pem(ec.publicKey), signature: sign('sha256', text, ec.privateKey), text }, result: true, error: '' },
  { name: 'Ed25519, DER key', args: { hash_function: 'sha512', public_key: der(ed.publicKey), signature: sign(null, text, ed.privateKey), text }, result: true, error: '' },
  { name: 'RSA with a tampered text', args: { hash_function: 'sha256', public_key: der(rsa.publicKey), signature: sign('sha256', text, rsa.privateKey), text: Buffer.from('header.payloaD') }, result: false, error: 'Failed to verify digest. Error code: 0' },
  { name: 'unsupported hash md5', args: { hash_function: 'md5', public_key: der(rsa.publicKey), signature: Buffer.alloc(256), text }, result: false, error: 'md5 is not supported.' },
];

async function callForeign(name: string, args: Uint8Array): Promise<string | undefined> {
  const emu = await conformance();
  const id = emu.initializeHttpContext();
  emu.callOnRequestHeaders(id, withAction('foreign', [['x-function', name], ['x-args', Buffer.from(args).toString('hex')]]), true);
  return header(emu.getCurrentRequestHeaders(id), 'x-foreign');
}

describe('host: proxy_call_foreign_function verify_signature (Envoy foreign.cc)', () => {
  it.each(cases)('host: proxy_call_foreign_function verify_signature $name', async ({ args, result, error }) => {
    const output = await callForeign('verify_signature', encode(VerifySignatureArgumentsType, args));
    expect(output).not.toBe('<error>');
    expect(decode(VerifySignatureResultType, Buffer.from(output!, 'hex'))).toEqual({ result, error });
  });

  it('host: proxy_call_foreign_function verify_signature with both DER and PEM keys answers BadArgument', async () => {
    const emu = await conformance();
    const [code] = emu.callForeignFunction('verify_signature', encode(VerifySignatureArgumentsType, { hash_function: 'sha256', public_key: der(rsa.publicKey), public_key_pem: pem(rsa.publicKey), text }));
    expect(code).toBe(WasmResult.BadArgument);
    expect(await callForeign('verify_signature', Uint8Array.of(0xff, 0xff))).toBe('<error>');
  });
});

describe('host: proxy_call_foreign_function other functions', () => {
  it('host: proxy_call_foreign_function with an unknown name answers NotFound', async () => {
    const emu = await conformance();
    expect(emu.callForeignFunction('expr_create', new Uint8Array(0))[0]).toBe(WasmResult.NotFound);
    expect(await callForeign('no_such_function', new Uint8Array(0))).toBe('<error>');
  });

  it('host: proxy_call_foreign_function compress / uncompress round-trip (zlib)', async () => {
    const emu = await conformance();
    const [, compressed] = emu.callForeignFunction('compress', Buffer.from('aaaaaaaaaaaaaaaa'));
    expect(compressed[0]).toBe(0x78); // zlib header
    expect(Buffer.from(emu.callForeignFunction('uncompress', compressed)[1]).toString()).toBe('aaaaaaaaaaaaaaaa');
  });

  it('host: proxy_call_foreign_function set_envoy_filter_state stores known keys, NotFound otherwise', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    const args = encode(SetEnvoyFilterStateArgumentsType, { path: 'envoy.tcp_proxy.cluster', value: 'backend' });
    emu.callOnRequestHeaders(id, withAction('foreign', [['x-function', 'set_envoy_filter_state'], ['x-args', Buffer.from(args).toString('hex')]]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-foreign')).toBe('');
    expect(Buffer.from(emu.getFilterState(id, 'envoy.tcp_proxy.cluster')!).toString()).toBe('backend');
    expect(await callForeign('set_envoy_filter_state', encode(SetEnvoyFilterStateArgumentsType, { path: 'made.up', value: 'x' }))).toBe('<error>');
  });

  it('host: proxy_call_foreign_function declare_property read-only blocks a second proxy_set_property', async () => {
    const emu = await conformance();
    const declare = encode(DeclarePropertyArgumentsType, { name: 'wasmesh.identity', readonly: true });
    const first = emu.initializeHttpContext();
    emu.callOnRequestHeaders(first, withAction('foreign', [['x-function', 'declare_property'], ['x-args', Buffer.from(declare).toString('hex')]]), true);
    expect(header(emu.getCurrentRequestHeaders(first), 'x-foreign')).toBe('');
    const again = emu.initializeHttpContext();
    emu.callOnRequestHeaders(again, withAction('foreign', [['x-function', 'declare_property'], ['x-args', Buffer.from(declare).toString('hex')]]), true);
    expect(header(emu.getCurrentRequestHeaders(again), 'x-foreign')).toBe('<error>');
  });

  it('host: setForeignFunction adds a function filters can call', async () => {
    const emu = await conformance();
    emu.setForeignFunction('echo_upper', (args) => [WasmResult.Ok, Buffer.from(Buffer.from(args).toString().toUpperCase())]);
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('foreign', [['x-function', 'echo_upper'], ['x-args', Buffer.from('abc').toString('hex')]]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-foreign')).toBe(Buffer.from('ABC').toString('hex'));
  });
});
