// The one way to the node's APIs from a page of the hub or the console, as the signed-in
// person: the session cookie, and an xrfkey (the same 16 characters in the header and the
// query). A 401 goes to the sign-in page; any other failure is an HttpError with the
// server's own message.

const appPath = new URL(document.baseURI).pathname;

/** The virtual proxy's root: "" or "/prefix" (the page's <base> is {prefix}/hub/ or {prefix}/qmc/). */
export const prefix = /\/(hub|qmc)\/$/.test(appPath) ? appPath.slice(0, -'/hub/'.length) : '';

export function signInUrl(): string {
  return `${prefix}/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const xrf = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => LETTERS[b % 62]).join('');

/** An address of the repository API with the xrfkey in its query. */
export const qrsUrl = (path: string): string => `${prefix}/qrs${path}${path.includes('?') ? '&' : '?'}xrfkey=${xrf}`;

/** The message of a failed answer: the server's `message` when it sent one. */
export async function failure(res: Response): Promise<HttpError> {
  let msg = `${res.status} ${res.statusText}`;
  let body: unknown = null;
  try {
    body = await res.json();
    const m = (body as { message?: unknown }).message;
    if (typeof m === 'string') msg = m;
  } catch {
    /* the status says enough */
  }
  return new HttpError(res.status, msg, body);
}

/** fetch, with a read (GET or HEAD) tried again twice when the network failed under it (a
 * moment's blip: Chromium drops requests when the machine's interfaces change). A write is
 * never sent twice: whether the first arrived is not known. */
export async function fetchSteady(url: string, init: RequestInit = {}): Promise<Response> {
  const read = !init.method || init.method === 'GET' || init.method === 'HEAD';
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (!read || attempt >= 3 || !(err instanceof TypeError)) throw err;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

export async function send(url: string, method = 'GET', json?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'X-Qlik-Xrfkey': xrf, Accept: 'application/json, text/plain' };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetchSteady(url, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    credentials: 'same-origin',
  });
  if (res.status === 401) {
    location.assign(signInUrl());
    throw new HttpError(401, 'signing in again');
  }
  if (!res.ok) throw await failure(res);
  return res;
}

export interface Me {
  userDirectory: string;
  userId: string;
  logoutUri: string;
}

export const me = async (): Promise<Me> => (await (await send(`${prefix}/qps/user`)).json()) as Me;

/** A text value in a QRS filter: single quotes, a quote written twice. */
export const quoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Signs out (the session ends on every node): the proxy's form, which answers with its sign-in page. */
export function signOut(): void {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = `${prefix}/sign-out`;
  document.body.append(form);
  form.submit();
}
