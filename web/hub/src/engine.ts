// An app's engine session through the proxy (wss://host/{prefix}/app/{id}), and what the
// hub keeps of it to come back after a drop: the selections, field by field.
import enigma from 'enigma.js';
import schema from 'enigma.js/schemas/12.2027.0.json';
import { prefix } from './base';

/* The parts of the QIX API the hub calls (enigma.js makes the methods from the schema). */
export interface Session {
  close(): Promise<void>;
}
export interface GenericObject {
  id: string;
  getProperties(): Promise<Record<string, unknown>>;
  setProperties(props: Record<string, unknown>): Promise<void>;
  getLayout(): Promise<Record<string, unknown>>;
  createChild(props: object, propsForThis?: object): Promise<GenericObject>;
  on(event: 'changed' | 'closed', fn: () => void): void;
}
export interface TablesAndKeys {
  qtr: {
    qName: string;
    qNoOfRows: number;
    qFields: { qName: string; qnTotalDistinctValues: number; qKeyType: string; qTags?: string[] }[];
  }[];
  qk: { qKeyFields: string[]; qTables: string[] }[];
}
export interface Field {
  selectValues(values: { qText: string }[], toggle?: boolean): Promise<boolean>;
}
export interface Doc {
  id: string;
  getAllInfos(): Promise<{ qId: string; qType: string }[]>;
  getObject(id: string): Promise<GenericObject>;
  createSessionObject(props: object): Promise<GenericObject>;
  getField(name: string): Promise<Field>;
  getAppLayout(): Promise<{ qTitle: string; qReadOnly?: boolean; qLastReloadTime?: string }>;
  createObject(props: object): Promise<GenericObject>;
  destroyObject(id: string): Promise<boolean>;
  doSave(fileName?: string): Promise<void>;
  getScript(): Promise<string>;
  setScript(script: string): Promise<void>;
  checkExpression(expr: string): Promise<{ qErrorMsg: string }>;
  createBookmark(props: object): Promise<GenericObject>;
  applyBookmark(id: string): Promise<boolean>;
  destroyBookmark(id: string): Promise<boolean>;
  createDimension(props: object): Promise<GenericObject>;
  createMeasure(props: object): Promise<GenericObject>;
  destroyDimension(id: string): Promise<boolean>;
  destroyMeasure(id: string): Promise<boolean>;
  getTablesAndKeys(
    windowSize: object,
    nullSize: object,
    cellHeight: number,
    syntheticMode: boolean,
    includeSysVars: boolean,
  ): Promise<TablesAndKeys>;
}
interface Global {
  openDoc(id: string): Promise<Doc>;
}

export interface Selection {
  field: string;
  values: string[];
}

export interface Opened {
  session: Session;
  doc: Doc;
  selectionObject: GenericObject;
}

export async function openApp(appId: string, onClosed: () => void): Promise<Opened> {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}${prefix}/app/${encodeURIComponent(appId)}`;
  const session = enigma.create({ schema, url, createSocket: (u: string) => new WebSocket(u) });
  const global = (await session.open()) as unknown as Global;
  session.on('closed', onClosed);
  const doc = await global.openDoc(appId);
  const selectionObject = await doc.createSessionObject({
    qInfo: { qType: 'hub-selections' },
    qSelectionObjectDef: {},
  });
  return { session, doc, selectionObject };
}

interface SelectionLayout {
  qSelectionObject?: {
    qSelections?: { qField: string; qSelectedFieldSelectionInfo?: { qName: string }[] }[];
  };
}

/** The selections of the session now, by value. */
export async function currentSelections(o: Opened): Promise<Selection[]> {
  const layout = (await o.selectionObject.getLayout()) as SelectionLayout;
  return (layout.qSelectionObject?.qSelections ?? []).map((s) => ({
    field: s.qField,
    values: (s.qSelectedFieldSelectionInfo ?? []).map((v) => v.qName),
  }));
}

/** Makes the same selections in a new session (after a reconnect). */
export async function restoreSelections(o: Opened, sel: Selection[]): Promise<void> {
  for (const s of sel) {
    if (!s.values.length) continue;
    const f = await o.doc.getField(s.field);
    await f.selectValues(s.values.map((v) => ({ qText: v })));
  }
}

export const tablesAndKeys = (doc: Doc): Promise<TablesAndKeys> =>
  doc.getTablesAndKeys({ qcx: 0, qcy: 0 }, { qcx: 0, qcy: 0 }, 0, false, false);

export interface LibraryItem {
  id: string;
  title: string;
}

/** The app's master dimensions and measures, by title. */
export async function libraryItems(doc: Doc): Promise<{ dimensions: LibraryItem[]; measures: LibraryItem[] }> {
  const o = await doc.createSessionObject({
    qInfo: { qType: 'hub-library' },
    qDimensionListDef: { qType: 'dimension', qData: { title: '/qMetaDef/title' } },
    qMeasureListDef: { qType: 'measure', qData: { title: '/qMetaDef/title' } },
  });
  type List = { qItems?: { qInfo: { qId: string }; qData?: { title?: unknown } }[] };
  const l = (await o.getLayout()) as { qDimensionList?: List; qMeasureList?: List };
  const items = (list?: List): LibraryItem[] =>
    (list?.qItems ?? [])
      .map((i) => ({ id: i.qInfo.qId, title: typeof i.qData?.title === 'string' && i.qData.title ? i.qData.title : i.qInfo.qId }))
      .sort((a, b) => a.title.localeCompare(b.title));
  return { dimensions: items(l.qDimensionList), measures: items(l.qMeasureList) };
}

/** The fields of the app's data model, by name, each once: not those the script tagged
 * $hidden or $system (TAG FIELD), which Qlik's own field lists leave out too. */
export async function fieldNames(doc: Doc): Promise<string[]> {
  const tk = await tablesAndKeys(doc);
  const names = new Set<string>();
  const hidden = new Set<string>();
  for (const t of tk.qtr ?? [])
    for (const f of t.qFields ?? []) {
      if (f.qTags?.some((tag) => tag === '$hidden' || tag === '$system')) hidden.add(f.qName);
      else names.add(f.qName);
    }
  for (const n of hidden) names.delete(n);
  return [...names].sort((a, b) => a.localeCompare(b));
}
