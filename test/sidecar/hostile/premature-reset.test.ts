import { EventEmitter } from 'node:events';
import type http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { trackPrematureResets } from '../../../deployer/src/sidecar/hcm/premature-reset.js';

/** A stand-in session: streams are opened and closed by hand, reset by the peer or answered. */
function fakeSession() {
  const session = Object.assign(new EventEmitter(), { destroyed: false, destroy() { this.destroyed = true; } });
  const open = (resetByPeer: boolean) => {
    const stream = new EventEmitter();
    session.emit('stream', stream);
    if (resetByPeer) stream.emit('aborted');
    stream.emit('close');
  };
  return { session, open };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('hcm: premature stream resets (CVE-2023-44487)', () => {
  it.each([
    { name: '250 resets among the first streams close the connection', answered: 0, reset: 250, closed: true },
    { name: '249 resets do not', answered: 0, reset: 249, closed: false },
    { name: 'half of 1,000 closed streams reset closes it', answered: 500, reset: 500, closed: true },
    { name: 'fewer than half reset past 500 streams does not', answered: 700, reset: 300, closed: false },
  ])('$name', async ({ answered, reset, closed }) => {
    const { session, open } = fakeSession();
    let reported = 0;
    trackPrematureResets(session as unknown as http2.Http2Session, () => { reported++; });
    for (let i = 0; i < answered; i++) open(false);
    for (let i = 0; i < reset; i++) open(true);
    await settle();
    expect(session.destroyed).toBe(closed);
    expect(reported).toBe(closed ? 1 : 0);
  });
});
