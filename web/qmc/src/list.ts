// A long list a page at a time: the server filters, sorts and pages (POST /qrs/{type}/table),
// so ten thousand rows cost what fifty do. Text typed in the search box becomes a QRS filter
// on one property; a click on a column's heading sorts by it, a second click the other way.
import { h } from '../../common/dom';
import { quoted, table, why, type PageQuery } from './api';

export type Row = Record<string, unknown> & { id: string; may: string[] };

export interface Column {
  title: string;
  /** the property path read for this column; sortable when set, unless sort is false */
  path?: string;
  sort?: boolean;
  cell?: (r: Row) => Node | string;
}

export interface ListOptions {
  type: string;
  columns: Column[];
  /** more property paths the cells or actions read, by name */
  extra?: Record<string, string>;
  /** the property the search box filters on ("name"); none: no search box */
  searchOn?: string;
  /** a filter always applied, beside the search */
  filter?: string;
  sortColumn?: string;
  ascending?: boolean;
  pageSize?: number;
  actions?: (r: Row, list: List) => Node[];
  label: string;
}

export class List {
  readonly el: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly status: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly heads: HTMLTableCellElement[] = [];
  private q: PageQuery;
  private search = '';
  private seq = 0;

  constructor(private readonly o: ListOptions) {
    this.q = { skip: 0, take: o.pageSize ?? 50, sortColumn: o.sortColumn, ascending: o.ascending ?? true };
    this.body = h('tbody');
    this.status = h('span', { class: 'count', role: 'status' });
    this.prev = h('button', { type: 'button', class: 'quiet', onclick: () => this.move(-1) }, 'Previous');
    this.next = h('button', { type: 'button', class: 'quiet', onclick: () => this.move(1) }, 'Next');
    const headRow = h('tr');
    o.columns.forEach((c, i) => {
      const th = h('th', { scope: 'col' });
      if (c.path && c.sort !== false) {
        th.append(h('button', { type: 'button', class: 'sort', onclick: () => this.sort(`c${i}`) }, c.title));
      } else {
        th.append(c.title);
      }
      this.heads.push(th);
      headRow.append(th);
    });
    if (o.actions) headRow.append(h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')));
    let timer = 0;
    const searchBox = o.searchOn
      ? h('input', {
          type: 'search',
          class: 'search',
          placeholder: 'Search',
          'aria-label': `Search ${o.label}`,
          oninput: (e: Event) => {
            clearTimeout(timer);
            const v = (e.target as HTMLInputElement).value.trim();
            timer = window.setTimeout(() => {
              this.search = v;
              this.q.skip = 0;
              void this.load();
            }, 250);
          },
        })
      : null;
    this.el = h(
      'section',
      { class: 'list' },
      h('div', { class: 'list-tools' }, searchBox, h('span', { class: 'grow' }), this.status, this.prev, this.next),
      h('div', { class: 'scroll' }, h('table', { 'aria-label': o.label }, h('thead', {}, headRow), this.body)),
    );
    this.markSort();
  }

  private columns(): Record<string, string> {
    const cols: Record<string, string> = { id: 'id', may: 'privileges', ...(this.o.extra ?? {}) };
    this.o.columns.forEach((c, i) => {
      if (c.path) cols[`c${i}`] = c.path;
    });
    return cols;
  }

  private filter(): string | undefined {
    const parts = [this.o.filter, this.search && this.o.searchOn ? `${this.o.searchOn} so ${quoted(this.search)}` : '']
      .filter((p): p is string => !!p)
      .map((p) => `(${p})`);
    return parts.length ? parts.join(' and ') : undefined;
  }

  private sort(col: string): void {
    this.q.ascending = this.q.sortColumn === col ? !this.q.ascending : true;
    this.q.sortColumn = col;
    this.q.skip = 0;
    this.markSort();
    void this.load();
  }

  private markSort(): void {
    this.heads.forEach((th, i) => {
      if (this.q.sortColumn === `c${i}`) th.setAttribute('aria-sort', this.q.ascending ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
  }

  private move(dir: number): void {
    this.q.skip = Math.max(0, this.q.skip + dir * this.q.take);
    void this.load();
  }

  /** Asks for the current page again (after a change). */
  async load(): Promise<void> {
    const seq = ++this.seq;
    this.status.textContent = 'Loading…';
    try {
      const page = await table(this.o.type, this.columns(), { ...this.q, filter: this.filter() });
      if (seq !== this.seq) return; /* a newer request answers */
      const rows = page.rows.map((cells) => Object.fromEntries(page.columnNames.map((n, i) => [n, cells[i]])) as Row);
      this.body.replaceChildren(
        ...rows.map((r) => {
          const tr = h('tr', { 'data-id': r.id });
          this.o.columns.forEach((c, i) => {
            const v = c.cell ? c.cell({ ...r, value: r[`c${i}`] }) : text(r[`c${i}`]);
            tr.append(h('td', {}, v));
          });
          if (this.o.actions) tr.append(h('td', { class: 'actions' }, h('div', {}, ...this.o.actions(r, this))));
          return tr;
        }),
      );
      if (!rows.length) {
        const span = String(this.o.columns.length + (this.o.actions ? 1 : 0));
        this.body.append(h('tr', {}, h('td', { colspan: span, class: 'empty' }, `No ${this.o.label.toLowerCase()}`)));
      }
      const first = page.totalCount ? this.q.skip + 1 : 0;
      const last = this.q.skip + rows.length;
      this.status.textContent = `${first.toLocaleString()}–${last.toLocaleString()} of ${page.totalCount.toLocaleString()}`;
      this.prev.disabled = this.q.skip === 0;
      this.next.disabled = last >= page.totalCount;
    } catch (err) {
      if (seq !== this.seq) return;
      this.status.textContent = '';
      this.body.replaceChildren(h('tr', {}, h('td', { class: 'error-cell', colspan: String(this.o.columns.length + 1) }, why(err))));
    }
  }
}

/** A cell's value as text: dates as the reader writes them, "never" for Qlik's sentinel. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(v)) {
    if (v.startsWith('1753-')) return 'never';
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toLocaleString();
  }
  if (Array.isArray(v)) return v.map(text).join(', ');
  return String(v);
}
