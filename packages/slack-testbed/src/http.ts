import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Json } from './types.js';

/** Arguments the Web API takes as JSON objects; in a form body they arrive JSON-stringified. */
const OBJECT_ARGS = new Set(['view', 'blocks', 'attachments', 'files', 'metadata', 'user_auth_blocks', 'unfurls']);

export async function readBody(req: IncomingMessage, limitBytes = 5 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new Error('request_too_large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Decodes a form value that Slack documents as a JSON object/array. Leaves it as text when it is not JSON. */
function decodeObjectArg(key: string, value: string): unknown {
  if (!OBJECT_ARGS.has(key)) return value;
  const t = value.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

export function parseForm(text: string): Json {
  const out: Json = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = decodeObjectArg(k, v);
  return out;
}

export class BodyParseError extends Error {}

/** Parses a Web API request body (form-urlencoded or JSON) plus query string. */
export function parseApiArgs(req: IncomingMessage, raw: Buffer, url: URL): { args: Json; json: boolean } {
  const type = mediaType(req);
  const args: Json = {};
  for (const [k, v] of url.searchParams) args[k] = decodeObjectArg(k, v);
  if (raw.length === 0) return { args, json: false };
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BodyParseError('invalid_json');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyParseError('invalid_json');
    return { args: { ...args, ...(parsed as Json) }, json: true };
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    return { args: { ...args, ...parseForm(raw.toString('utf8')) }, json: false };
  }
  throw new BodyParseError('invalid_form_data');
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : undefined;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Parses an HTTP answer the way the driver reports it: JSON when it is JSON, text otherwise, undefined when empty. */
export function parseAnswer(text: string, contentType: string | null): unknown {
  if (text.length === 0) return undefined;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}
