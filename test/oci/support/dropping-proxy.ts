// A TCP proxy in front of the registry that cuts both sockets once a client has sent more than
// `dropAfterBytes` bytes of blob upload data — a registry or network dying mid-upload. After
// `maxDrops` cuts it forwards everything (a transient failure).
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DroppingProxy {
  readonly host: string;
  /** Number of connections cut so far. */
  drops(): number;
  stop(): Promise<void>;
}

export async function startDroppingProxy(upstreamPort: number, dropAfterBytes: number, maxDrops = Number.POSITIVE_INFINITY): Promise<DroppingProxy> {
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client).add(upstream);
    let forwarded = 0;
    let uploading = false;
    client.on('data', (chunk: Buffer) => {
      // Only upload requests (PATCH/PUT to .../blobs/uploads/...) are cut; HEAD/POST/GET pass.
      const text = chunk.subarray(0, 200).toString('latin1');
      if (/^(PATCH|PUT) \S*\/blobs\/uploads\//.test(text)) uploading = true;
      else if (/^[A-Z]+ \//.test(text)) uploading = false;
      if (uploading && dropped < maxDrops) {
        forwarded += chunk.byteLength;
        if (forwarded > dropAfterBytes) {
          dropped += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    drops: () => dropped,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
