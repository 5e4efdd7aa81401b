import { createServer } from 'node:net';

/** Chooses the port for a server on `host`. Injectable so tests can force a collision. */
export type PortPicker = (host: string) => Promise<number>;

/**
 * Asks the kernel for a free port by binding port 0 and closing again. Another process can take it
 * before ComfyUI binds it; the caller retries on ComfyUI's address-in-use exit for that reason.
 * Ephemeral ports never include 8188, so a user's own ComfyUI is never in the way.
 */
export const pickFreePort: PortPicker = (host) =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ host: bindHost(host), port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error(`could not read the port bound on ${host}`))));
    });
  });

/** True when nothing listens on host:port (checked by binding it for an instant). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    probe.listen({ host: bindHost(host), port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** ComfyUI's --listen takes a comma list; the first address is the one we probe and talk to. */
function bindHost(host: string): string {
  return host.split(',')[0]?.trim() || '127.0.0.1';
}
