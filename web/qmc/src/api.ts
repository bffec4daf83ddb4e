// The repository API as the console uses it: every action is a QRS call made as the
// signed-in person, so what the rules forbid comes back as the repository's 403 and is
// shown as its message. Long lists come a page at a time from POST /qrs/{type}/table.
import { HttpError, qrsUrl, quoted, send, xrf } from '../../common/http';

export { HttpError, quoted } from '../../common/http';

const body = async <T>(res: Response): Promise<T> =>
  (res.status === 204 ? undefined : res.headers.get('Content-Type')?.includes('json') ? await res.json() : await res.text()) as T;

export const get = async <T>(path: string): Promise<T> => body<T>(await send(qrsUrl(path)));
export const post = async <T>(path: string, json?: unknown): Promise<T> => body<T>(await send(qrsUrl(path), 'POST', json));
export const put = async <T>(path: string, json?: unknown): Promise<T> => body<T>(await send(qrsUrl(path), 'PUT', json));
export const del = async (path: string): Promise<void> => {
  await send(qrsUrl(path), 'DELETE');
};

/** A person-readable sentence for a failed call. */
export function why(err: unknown): string {
  if (err instanceof HttpError && err.status === 403) return `Not allowed: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export interface PageQuery {
  filter?: string;
  skip: number;
  take: number;
  sortColumn?: string;
  ascending: boolean;
}

export interface Page {
  columnNames: string[];
  rows: unknown[][];
  totalCount: number;
}

/** One page of a list: `columns` maps column names to property paths ("stream.name"); a
 * column named `may` lists what the person may do with the row. */
export function table(type: string, columns: Record<string, string>, q: PageQuery): Promise<Page> {
  const params = new URLSearchParams({ skip: String(q.skip), take: String(q.take) });
  if (q.filter) params.set('filter', q.filter);
  if (q.sortColumn) {
    params.set('sortColumn', q.sortColumn);
    params.set('orderAscending', String(q.ascending));
  }
  const cols = Object.entries(columns).map(([name, definition]) =>
    name === 'may' ? { name, columnType: 'Privileges', definition: 'privileges' } : { name, columnType: 'Property', definition },
  );
  return post<Page>(`/${type}/table?${params.toString()}`, { columns: cols });
}

/** The id of the one app named `name` the person may read; an error that says why not. */
export async function appNamed(name: string): Promise<string> {
  const found = await table('app', { id: 'id' }, { skip: 0, take: 2, filter: `name eq ${quoted(name)}`, ascending: true });
  if (found.totalCount !== 1)
    throw new Error(found.totalCount ? `${found.totalCount} apps are named ${name}: rename one first` : `there is no app named ${name}`);
  return String(found.rows[0][0]);
}

export interface Uploaded {
  id: string;
  name: string;
}

/** POST /qrs/app/upload with the file streamed as it is read; `progress` hears of each step. */
export function upload(file: File, name: string, progress: (sent: number, total: number) => void): Promise<Uploaded> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', qrsUrl(`/app/upload?name=${encodeURIComponent(name)}`));
    x.setRequestHeader('X-Qlik-Xrfkey', xrf);
    x.setRequestHeader('Content-Type', 'application/vnd.qlik.sense.app');
    x.upload.onprogress = (e) => progress(e.loaded, e.lengthComputable ? e.total : file.size);
    x.onerror = () => reject(new Error('the connection broke during the upload'));
    x.onload = () => {
      let answer: { message?: unknown } & Partial<Uploaded> = {};
      try {
        answer = JSON.parse(x.responseText) as typeof answer;
      } catch {
        /* the status says enough */
      }
      if (x.status === 201 && typeof answer.id === 'string') resolve(answer as Uploaded);
      else reject(new HttpError(x.status, typeof answer.message === 'string' ? answer.message : `${x.status} ${x.statusText}`));
    };
    x.send(file);
  });
}

/** QRS enum texts the console shows. */
export const EXEC_STATUS = ['Never started', 'Triggered', 'Started', 'Queued', 'Abort initiated', 'Aborting', 'Aborted',
  'Finished', 'Failed', 'Skipped', 'Retry', 'Error', 'Reset'];
/** The statuses after which an execution changes no more. */
export const FINAL_STATUS = new Set([6, 7, 8, 9, 11, 12]);
