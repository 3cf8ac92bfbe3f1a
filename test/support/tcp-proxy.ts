/** A TCP proxy a test controls: it cuts a client off from a server (connections reset, new ones refused). */
import { EventEmitter } from 'node:events';
import net from 'node:net';

export class TcpProxy extends EventEmitter<{ refused: [] }> {
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  /** Connections refused since the proxy was last cut: each is a reconnect attempt of the client. */
  refusedSinceCut = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    super();
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `target` (`host:port`). */
  static async start(target: string): Promise<TcpProxy> {
    const at = target.lastIndexOf(':');
    const proxy = new TcpProxy(net.createServer(), { host: target.slice(0, at), port: Number(target.slice(at + 1)) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Drops every open connection with a reset and refuses new ones, as a server that went away. */
  cut(): void {
    this.isCut = true;
    this.refusedSinceCut = 0;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.isCut) {
      client.resetAndDestroy();
      this.refusedSinceCut += 1;
      this.emit('refused');
      return;
    }
    const upstream = net.connect(this.target);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.pipe(b);
      // Either side failing or closing ends the pair, as a broken connection would.
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }
}
