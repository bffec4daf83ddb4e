// Small pieces every page of the console uses: a page's heading, a form's message line,
// and a button that does one repository call and says how it went.
import { h } from '../../common/dom';
import { why } from './api';

export function heading(title: string, ...more: Node[]): HTMLElement {
  return h('div', { class: 'page-head' }, h('h1', {}, title), ...more);
}

/** A line under a form or list that says what happened; errors are announced at once. */
export type Notice = HTMLElement & { ok(text: string): void; fail(err: unknown): void; clear(): void };

export function notice(): Notice {
  const el = h('p', { class: 'notice', role: 'status' }) as unknown as Notice;
  el.ok = (text) => {
    el.className = 'notice ok';
    el.setAttribute('role', 'status');
    el.textContent = text;
  };
  /* a new action begins: what the last one said no longer holds */
  el.clear = () => {
    el.className = 'notice';
    el.setAttribute('role', 'status');
    el.textContent = '';
  };
  el.fail = (err) => {
    el.className = 'notice bad';
    el.setAttribute('role', 'alert');
    el.textContent = why(err);
  };
  return el;
}

/** A button that runs `act`, disabled while it runs; what it says lands in `say`. */
export function action(
  label: string,
  act: () => Promise<string | void>,
  say: Notice,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'quiet', ...attrs }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    say.clear();
    try {
      const text = await act();
      if (text) say.ok(text);
    } catch (err) {
      say.fail(err);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** A labelled field. */
export function field(label: string, input: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

/** Sizes as people read them: "12.5 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
