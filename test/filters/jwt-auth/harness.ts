/** Runs the jwt-verify-harness module (built test filter) through the host emulator. */
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { builtTestFilter } from '../../setup/paths.js';

export interface VerifyHarness {
  verify(alg: string, jwk: string, msgHex: string, sigHex: string): { verdict: string; hostCalls: number };
}

export async function loadVerifyHarness(crypto: 'wasm' | 'host'): Promise<VerifyHarness> {
  const emu = await HostEmulator.load({ wasm: builtTestFilter('jwt-verify-harness'), configuration: crypto, logLevel: 'warn' });
  return {
    verify(alg, jwk, msgHex, sigHex) {
      const id = emu.initializeHttpContext();
      emu.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'h'], ['x-alg', alg], ['x-jwk', jwk], ['x-msg', msgHex], ['x-sig', sigHex]], true);
      const reply = emu.getSentLocalResponse(id);
      emu.completeHttpContext(id);
      if (reply === undefined) throw new Error('harness sent no reply');
      const hostCalls = Number(reply.headers.find(([n]) => n === 'x-host-calls')?.[1] ?? '0');
      return { verdict: new TextDecoder().decode(reply.body), hostCalls };
    },
  };
}
