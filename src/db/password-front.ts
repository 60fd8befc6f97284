import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A loopback TCP front for the embedded database that asks for a password, as PostgreSQL does with md5
 * authentication, before it connects the client to PGlite's socket server (which accepts anyone: PGlite
 * itself answers every startup with "authentication ok"). The socket server listens only on a Unix socket
 * in a directory only this process's user can enter, so this front is the only way in over TCP.
 *
 * Wire protocol (PostgreSQL v3): SSLRequest/GSSENCRequest → 'N'; StartupMessage (user) →
 * AuthenticationMD5Password(salt) → PasswordMessage ('md5' + md5(md5(password + user) + salt)) → on success
 * the startup message is replayed to PGlite and bytes are piped both ways; on failure an ErrorResponse 28P01.
 */
export interface PasswordFront {
  port: number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const AUTH_TIMEOUT_MS = 10_000;
const MAX_STARTUP = 10_000;

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

export function md5Password(user: string, password: string, salt: Buffer): string {
  return `md5${md5(Buffer.concat([Buffer.from(md5(password + user)), salt]))}`;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat(
    [
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', code],
      ['M', message],
    ].map(([k, v]) => Buffer.from(`${k}${v}\0`)),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function startupParams(packet: Buffer): Record<string, string> {
  const parts = packet.subarray(8).toString('utf8').split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

export function startPasswordFront(opts: {
  user: string;
  password: string;
  /** The Unix socket (or Windows pipe) PGlite's socket server listens on. */
  target: string;
}): Promise<PasswordFront> {
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    authenticate(client, opts);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const c of clients) c.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function authenticate(client: Socket, opts: { user: string; password: string; target: string }) {
  let buffer = Buffer.alloc(0);
  let startup: Buffer | undefined;
  let user = '';
  const salt = randomBytes(4);
  const timer = setTimeout(() => client.destroy(), AUTH_TIMEOUT_MS);
  const refuse = (code: string, message: string) => {
    clearTimeout(timer);
    client.end(errorResponse(code, message));
  };
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (buffer.length > MAX_STARTUP) return refuse('08P01', 'startup packet too large');
    while (!startup && buffer.length >= 8) {
      const length = buffer.readInt32BE(0);
      if (length < 8 || length > MAX_STARTUP) return refuse('08P01', 'invalid startup packet');
      if (buffer.length < length) return;
      const code = buffer.readInt32BE(4);
      const packet = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      if (code === SSL_REQUEST || code === GSS_REQUEST) client.write('N');
      else if (code === CANCEL_REQUEST) return client.destroy();
      else if (code !== PROTOCOL_3) return refuse('0A000', 'unsupported frontend protocol');
      else {
        startup = Buffer.from(packet);
        user = startupParams(packet).user ?? '';
        const ask = Buffer.alloc(13);
        ask.write('R', 0);
        ask.writeInt32BE(12, 1);
        ask.writeInt32BE(5, 5);
        salt.copy(ask, 9);
        client.write(ask);
      }
    }
    if (!startup || buffer.length < 5) return;
    if (buffer[0] !== 0x70 /* 'p' */) return refuse('28000', 'expected a password message');
    const length = buffer.readInt32BE(1);
    if (length < 5 || length > MAX_STARTUP) return refuse('08P01', 'invalid password message');
    if (buffer.length < length + 1) return;
    const offered = Buffer.from(
      buffer
        .subarray(5, length + 1)
        .toString('utf8')
        .replace(/\0$/, ''),
    );
    const rest = buffer.subarray(length + 1);
    const expected = Buffer.from(md5Password(opts.user, opts.password, salt));
    const ok = user === opts.user && offered.length === expected.length && timingSafeEqual(offered, expected);
    if (!ok) return refuse('28P01', `password authentication failed for user "${user.slice(0, 64)}"`);
    clearTimeout(timer);
    client.off('data', onData);
    client.pause();
    const inner = connect(opts.target, () => {
      inner.write(startup!);
      if (rest.length) inner.write(rest);
      client.pipe(inner);
      inner.pipe(client);
      client.resume();
    });
    const closeBoth = () => {
      client.destroy();
      inner.destroy();
    };
    inner.on('error', closeBoth);
    inner.on('close', closeBoth);
    client.on('close', closeBoth);
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
}
