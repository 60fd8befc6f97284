/**
 * The official Node client (@duosecurity/duo_api 1.5.0), a devDependency used only as an independent
 * oracle: it signs requests exactly as Duo's own code does.
 *
 * How it is pointed at the simulator: lib/main.js is https-only. It calls `https.request({host, method, path,
 * headers, ca: <Duo's pinned roots>})` with no port, agent or protocol option, and signs `this.host` which it
 * also sends as the Host header. So we give it host `127.0.0.1:PORT` (signed and sent as Host exactly as it
 * would `api-xxx.duosecurity.com`) and, while a test runs, replace `https.request` with a shim that splits
 * host/port and hands the identical options, headers and body to `http.request`. A self-signed TLS server
 * would not help: the pinned CA list cannot be overridden. Everything above the transport (canonicalization,
 * signature, Date header, params placement, body bytes) is the official code, unmodified.
 */
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { vi } from 'vitest';

const require = createRequire(import.meta.url);

export interface OfficialClient {
  jsonApiCall(method: string, path: string, params: Record<string, string>, cb: (res: unknown) => void): void;
}

export const officialDuo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => OfficialClient;
  SIGNATURE_VERSION_2: number;
  SIGNATURE_VERSION_5: number;
};

/** Routes the official client's https.request to plain http on loopback (undo with vi.restoreAllMocks()). */
export function routeOfficialClientOverHttp(): void {
  const realRequest = http.request;
  vi.spyOn(https, 'request').mockImplementation(((
    options: https.RequestOptions,
    cb?: (res: http.IncomingMessage) => void,
  ) => {
    const [hostname, port] = String(options.host).split(':');
    const { ca: _pinnedCa, host: _host, ...rest } = options;
    return realRequest({ ...rest, hostname, port: Number(port) }, cb);
  }) as unknown as typeof https.request);
}

export const officialCall = (client: OfficialClient, method: string, path: string, params: Record<string, string>) =>
  new Promise<Record<string, unknown>>((resolve) =>
    client.jsonApiCall(method, path, params, (r) => resolve(r as Record<string, unknown>)),
  );
