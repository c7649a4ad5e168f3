import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that can cut a connection at a chosen moment: when the next
 * answer from the server matches, that answer is dropped and both sides are closed — the database
 * has done the work (a statement with its Sync already sent commits), the client never hears of it.
 * For the commit-unknown case, which no fault from outside can hit on purpose.
 */
export async function startCuttingProxy(target: { host: string; port: number }) {
  let armed: ((answer: Buffer) => boolean) | null = null;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (armed?.(d)) {
        armed = null;
        cuts++;
        closeBoth();
        return;
      }
      client.write(d);
    });
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    /** Cuts the connection that next receives an answer containing `text`. */
    cutAnswerContaining(text: string) {
      armed = (answer) => answer.includes(text);
    },
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
