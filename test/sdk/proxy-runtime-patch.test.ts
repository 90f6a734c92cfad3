import { afterEach, describe, expect, it } from 'vitest';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { builtTestFilter } from '../setup/paths.js';

// Behaviour of the patched @solo-io/proxy-runtime (patches/, listed in the README) that no
// filter test covers directly.
describe('sdk: patched proxy-runtime', () => {
  let emulator: HostEmulator | undefined;
  afterEach(async () => { await emulator?.close(); emulator = undefined; });

  it('sdk: RootContext.httpCall compiles and its callback reads the response in the stream context', async () => {
    emulator = await HostEmulator.load({ wasm: builtTestFilter('sdk-http-call'), rootId: 'sdk-http-call', clusters: ['lookup'] });
    const id = emulator.initializeHttpContext();
    expect(emulator.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'app']], true)).toBe('Pause');
    const [call] = emulator.getHttpCalls();
    expect(call).toBeDefined();
    emulator.respondToHttpCall(call!.token, [[':status', '202']], 'looked up');
    const reply = emulator.getSentLocalResponse(id);
    expect(reply?.status).toBe(200);
    expect(new TextDecoder().decode(reply?.body)).toBe('looked up');
    expect(reply?.headers).toContainEqual(['x-callout-status', '202']);
  });
});

describe('sdk: patched proxy-runtime shared state', () => {
  it('sdk: get_shared_data/set_shared_data carry value and CAS; shared queue register/resolve/enqueue/dequeue', async () => {
    const emulator = await HostEmulator.load({ wasm: builtTestFilter('sdk-shared'), rootId: 'sdk-shared' });
    try {
      const id = emulator.initializeHttpContext();
      emulator.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'app']], true);
      const reply = emulator.getSentLocalResponse(id);
      expect(new TextDecoder().decode(reply?.body)).toBe('queued');
      expect(Object.fromEntries(reply?.headers ?? [])).toMatchObject({
        'x-first-set': '0',
        'x-read-value': 'v1',
        'x-stale-cas-set': 'CasMismatch',
        'x-fresh-cas-set': '0',
        'x-final-value': 'v3',
        'x-missing': 'NotFound',
        'x-queue-token-matches': 'yes',
        'x-empty-dequeue': 'Empty',
      });
    } finally {
      await emulator.close();
    }
  });
});
