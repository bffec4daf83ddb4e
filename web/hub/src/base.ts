// Where the hub lives. The proxy gives the page a <base> naming {prefix}/hub/, where the
// prefix is the virtual proxy's ("" for the default one); every address is made from it.

import { prefix } from '../../common/http';

export { prefix, signInUrl } from '../../common/http';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An id of the repository (apps, streams): a GUID, nothing else reaches an address. */
export const isId = (s: string | undefined): s is string => !!s && ID.test(s);
/** An id of an app object (sheets, charts): letters, digits, '-' and '_'. */
export const isObjectId = (s: string | undefined): s is string => !!s && OBJECT_ID.test(s);

export const hubUrl = (rest = ''): string => `${prefix}/hub/${rest}`;

/** Qlik's deep links: /sense/app/{id} and /sense/app/{id}/sheet/{sheetId}. */
export function appUrl(appId: string, sheetId?: string): string {
  const a = `${prefix}/sense/app/${encodeURIComponent(appId)}`;
  return sheetId ? `${a}/sheet/${encodeURIComponent(sheetId)}` : a;
}

/** Qlik's address of an app's data model viewer. */
export const modelUrl = (appId: string): string => `${prefix}/datamodelviewer/app/${encodeURIComponent(appId)}`;

/** Qlik's address of an app's load script editor. */
export const scriptUrl = (appId: string): string => `${prefix}/dataloadeditor/app/${encodeURIComponent(appId)}`;
