/**
 * Slack's side of Socket Mode: one-time connection URLs from apps.connections.open, the `hello` greeting,
 * server pings, envelopes out and acks (`{ envelope_id, payload }`) back.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Json, TestbedLogger } from './types.js';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  acked: boolean;
  payload?: Json;
}

interface Pending {
  resolve: (ack: SocketAck) => void;
  timer: NodeJS.Timeout;
}

const TICKET_TTL_MS = 60_000;

export class SocketModeServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, number>();
  private readonly sockets: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<() => void>();
  private next = 0;
  /** Every ack received, for secret scans. */
  readonly acks: Json[] = [];

  constructor(
    private readonly opts: { appId: string; pingIntervalMs: number; now: () => number; logger?: TestbedLogger },
  ) {}

  /** A single-use connection URL, as apps.connections.open returns. */
  issueUrl(host: string): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, this.opts.now());
    return `ws://${host}/socket?ticket=${ticket}&app_id=${this.opts.appId}`;
  }

  /** Handles an HTTP upgrade on `/socket`; refuses unknown or reused tickets with 401. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (url.pathname !== '/socket' || issued === undefined || this.opts.now() - issued > TICKET_TTL_MS) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    this.sockets.push(ws);
    const ping = setInterval(() => ws.ping(), this.opts.pingIntervalMs);
    ping.unref();
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        this.opts.logger?.warn('socket mode: unparseable message from app');
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      const { envelope_id: id, payload } = msg as { envelope_id?: unknown; payload?: unknown };
      if (typeof id !== 'string') return;
      this.acks.push(msg as Json);
      const p = this.pending.get(id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ acked: true, payload: payload && typeof payload === 'object' ? (payload as Json) : undefined });
    });
    ws.on('close', () => {
      clearInterval(ping);
      const i = this.sockets.indexOf(ws);
      if (i >= 0) this.sockets.splice(i, 1);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.length,
        debug_info: { host: 'applink-fake-duo-desk', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.opts.appId },
      }),
    );
    for (const l of this.listeners) l();
  }

  connectionCount(): number {
    return this.sockets.filter((s) => s.readyState === s.OPEN).length;
  }

  /** Resolves once at least one app connection is open. */
  waitForConnection(timeoutMs = 5000): Promise<void> {
    if (this.connectionCount() > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(done);
        reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(done);
    });
  }

  /**
   * Sends an envelope to one open connection (round robin, as Slack spreads events over connections)
   * and waits for its ack. `acked: false` when none arrives within `ackTimeoutMs` (Slack's 3 s).
   */
  send(
    type: EnvelopeType,
    payload: Json,
    opts: { acceptsResponsePayload: boolean; ackTimeoutMs?: number },
  ): Promise<SocketAck> {
    const open = this.sockets.filter((s) => s.readyState === s.OPEN);
    if (open.length === 0) return Promise.reject(new Error('no Socket Mode connection is open'));
    const ws = open[this.next++ % open.length]!;
    const envelopeId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        resolve({ acked: false });
      }, opts.ackTimeoutMs ?? 3000);
      this.pending.set(envelopeId, { resolve, timer });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          payload,
          type,
          accepts_response_payload: opts.acceptsResponsePayload,
        }),
      );
    });
  }

  /** Asks every connection to reconnect, as Slack does before recycling a server. */
  sendDisconnect(reason: 'warning' | 'refresh_requested' | 'link_disabled' = 'refresh_requested'): void {
    for (const ws of this.sockets) {
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-duo-desk' } }));
    }
  }

  /**
   * Closes every connection with a close handshake (waiting up to `graceMs` for it), then drops what is left.
   * Stop the app first: Bolt's stop() returns before its close handshake ends, and a client that is still
   * running reconnects when the server goes away.
   */
  async close(graceMs = 1000): Promise<void> {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ acked: false });
    }
    this.pending.clear();
    await Promise.all(
      [...this.sockets].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, graceMs);
            timer.unref();
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(1001, 'server shutting down');
          }),
      ),
    );
    this.wss.close();
  }
}
