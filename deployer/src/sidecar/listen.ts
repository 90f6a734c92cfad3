import type net from 'node:net';
import type { ListenAddress } from './config/types.js';

/**
 * Binds a server to a configured address and resolves with the address actually bound (port 0
 * picks a free port). A bind failure (EADDRINUSE, EACCES) rejects instead of being emitted later.
 */
export function listenOn(server: net.Server, address: ListenAddress): Promise<ListenAddress> {
  return new Promise<ListenAddress>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve({ host: address.host, port: (server.address() as net.AddressInfo).port });
    });
  });
}
