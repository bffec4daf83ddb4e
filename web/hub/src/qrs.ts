// The repository API through the proxy, as the signed-in person (common/http.ts): the
// hub's calls.
import { HttpError, qrsUrl, send } from '../../common/http';

export { HttpError, me, quoted, type Me } from '../../common/http';

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

const call = async <T>(url: string): Promise<T> => (await (await send(url)).json()) as T;

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

/** The apps that `filter` selects (and the rules let this person read), by name. */
export const apps = (filter: string): Promise<App[]> =>
  qrs<App[]>(`/app/full?filter=${encodeURIComponent(filter)}&orderby=name`);

export const streams = (): Promise<Stream[]> => qrs<Stream[]>('/stream/full?orderby=name');
