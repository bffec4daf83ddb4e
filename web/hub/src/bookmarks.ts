// Bookmarks: named selections of the app, listed beside its sheets. Whoever opens the app
// applies them with a click; people who may change the app add and delete the app's. People
// who may only read it make private ones: the engine keeps them for their maker alone
// (qMetaDef.privateTo) and saves them itself, and their maker deletes them.
import { h } from '../../common/dom';
import type { Doc } from './engine';

interface Item {
  qInfo: { qId: string };
  qMeta?: { privateTo?: unknown };
  qData?: { title?: unknown };
}

/** The panel, with a session object that lists the app's bookmarks. */
export function bookmarksPanel(doc: Doc, canChange: boolean, failed: (e: unknown) => void): HTMLElement {
  const list = h('ul', {});
  const panel = h('section', { class: 'bookmarks', 'aria-label': 'Bookmarks' }, h('h2', {}, 'Bookmarks'), list);
  let refresh = async (): Promise<void> => undefined;
  const listed = doc
    .createSessionObject({ qInfo: { qType: 'hub-bookmarks' }, qBookmarkListDef: { qType: 'bookmark', qData: { title: '/qMetaDef/title' } } })
    .then((o) => {
      refresh = async () => {
        const layout = (await o.getLayout()) as { qBookmarkList?: { qItems?: Item[] } };
        show(layout.qBookmarkList?.qItems ?? []);
      };
      return refresh();
    });
  listed.catch(failed);

  function show(items: Item[]): void {
    if (!items.length) {
      list.replaceChildren(h('li', { class: 'empty' }, 'None yet'));
      return;
    }
    const sorted = [...items].sort((a, b) => String(a.qData?.title ?? '').localeCompare(String(b.qData?.title ?? '')));
    list.replaceChildren(
      ...sorted.map((item) => {
        const title = typeof item.qData?.title === 'string' && item.qData.title ? item.qData.title : 'Untitled';
        const apply = h('button', { type: 'button', class: 'link' }, title);
        apply.addEventListener('click', () => void doc.applyBookmark(item.qInfo.qId).catch(failed));
        const mine = typeof item.qMeta?.privateTo === 'string';
        if (mine) apply.append(h('span', { class: 'private' }, ' (private)'));
        const li = h('li', {}, apply);
        if (canChange || mine) {
          const del = h('button', { type: 'button', class: 'remove', 'aria-label': `Delete bookmark ${title}` }, '✕');
          del.addEventListener('click', () =>
            void doc
              .destroyBookmark(item.qInfo.qId)
              .then(() => (mine ? undefined : doc.doSave()))
              .then(refresh)
              .catch(failed),
          );
          li.append(del);
        }
        return li;
      }),
    );
  }

  {
    const name = h('input', { 'aria-label': 'New bookmark title', placeholder: canChange ? 'New bookmark' : 'New private bookmark', required: true });
    const form = h('form', { class: 'new-bookmark' }, name, h('button', { type: 'submit' }, 'Add bookmark'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const title = name.value.trim();
      if (!title) return;
      void doc
        .createBookmark({ qInfo: { qType: 'bookmark' }, qMetaDef: { title, description: '' }, title })
        .then(() => (canChange ? doc.doSave() : undefined))
        .then(() => {
          name.value = '';
          return refresh();
        })
        .catch(failed);
    });
    panel.append(form);
  }
  return panel;
}
