import { createServer, Socket } from 'node:net';

/** Ports this process handed out already: the kernel may offer a port again once it is closed. */
const handedOut = new Set<number>();

/** One port the kernel has free on 127.0.0.1 now (closed again before it resolves). */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Asks the kernel for a free TCP port on 127.0.0.1, never one this process handed out before: two
 * calls in a row (a replica's PORT and METRICS_PORT) could otherwise get the same port back.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await kernelPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port the kernel offered was new to this process');
}

/** Sends `payload` and resolves with the first chunk of the answer; rejects on connect errors. */
export function probeTcp(port: number, payload?: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('probe timeout'));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect(port, '127.0.0.1', () => {
      if (payload === undefined) {
        clearTimeout(timer);
        socket.destroy();
        resolve('');
      } else {
        socket.write(payload);
      }
    });
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString());
    });
  });
}
