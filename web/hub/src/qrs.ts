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

async function call<T>(url: string): Promise<T> {
  const res = await fetch(url, {
    headers: { 'X-Qlik-Xrfkey': xrf, Accept: 'application/json' },
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
  return (await res.json()) as T;
}

export function qrs<T>(path: string): Promise<T> {
  const sep = path.includes('?') ? '&' : '?';
  return call<T>(`${prefix}/qrs${path}${sep}xrfkey=${xrf}`);
}

export const me = (): Promise<Me> => call<Me>(`${prefix}/qps/user`);

/** A text value in a QRS filter: single quotes, a quote written twice. */
export const quoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The apps that `filter` selects (and the rules let this person read), by name. */
export const apps = (filter: string): Promise<App[]> =>
  qrs<App[]>(`/app/full?filter=${encodeURIComponent(filter)}&orderby=name`);

export const streams = (): Promise<Stream[]> => qrs<Stream[]>('/stream/full?orderby=name');
