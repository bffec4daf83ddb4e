// The repository API through the proxy, as the signed-in person: every call carries the
// session cookie and an xrfkey (the same 16 characters in the header and the query).
import { prefix, signInUrl } from './base';

export interface Stream {
  id: string;
  name: string;
}

export interface App {
  id: string;
  name: string;
  description?: string;
  published: boolean;
  stream: Stream | null;
  owner: { userId: string; userDirectory: string } | null;
  lastReloadTime: string | null;
}

export interface Me {
  userDirectory: string;
  userId: string;
  logoutUri: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const xrf = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => LETTERS[b % 62]).join('');

async function send(url: string, method = 'GET'): Promise<Response> {
  const res = await fetch(url, {
    method,
    headers: { 'X-Qlik-Xrfkey': xrf, Accept: 'application/json, text/plain' },
    credentials: 'same-origin',
  });
  if (res.status === 401) {
    location.assign(signInUrl());
    throw new HttpError(401, 'signing in again');
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: unknown };
      if (typeof body.message === 'string') msg = body.message;
    } catch {
      /* the status says enough */
    }
    throw new HttpError(res.status, msg);
  }
  return res;
}

const call = async <T>(url: string): Promise<T> => (await (await send(url)).json()) as T;
const qrsUrl = (path: string): string => `${prefix}/qrs${path}${path.includes('?') ? '&' : '?'}xrfkey=${xrf}`;

export const qrs = <T>(path: string): Promise<T> => call<T>(qrsUrl(path));

/** POST /qrs/app/{id}/reload: resolves when the reload has finished (or fails with why). */
export async function reload(appId: string): Promise<void> {
  await send(qrsUrl(`/app/${encodeURIComponent(appId)}/reload`), 'POST');
}

/** The log of the app's last (or running) reload, or "" when it has none yet. */
export async function reloadLog(appId: string): Promise<string> {
  try {
    return await (await send(qrsUrl(`/app/${encodeURIComponent(appId)}/reload/log`))).text();
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return '';
    throw err;
  }
}

export const me = (): Promise<Me> => call<Me>(`${prefix}/qps/user`);

/** A text value in a QRS filter: single quotes, a quote written twice. */
export const quoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The apps that `filter` selects (and the rules let this person read), by name. */
export const apps = (filter: string): Promise<App[]> =>
  qrs<App[]>(`/app/full?filter=${encodeURIComponent(filter)}&orderby=name`);

export const streams = (): Promise<Stream[]> => qrs<Stream[]>('/stream/full?orderby=name');
