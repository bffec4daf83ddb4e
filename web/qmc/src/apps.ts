// Apps: the list (searched, sorted and paged on the server), upload with a progress bar,
// reload, publish to a stream or move it to another, copy, replace with another app's
// content, export (a download), delete, its tags and custom properties, its objects (sheets,
// charts, bookmarks, master items, variables), and a link that opens the app in the hub.
import { h } from '../../common/dom';
import { prefix } from '../../common/http';
import { appNamed, del, get, post, put, upload } from './api';
import { editEntity, labelFields } from './editor';
import { List, type Row } from './list';
import { action, bytes, field, heading, notice } from './ui';

interface Stream {
  id: string;
  name: string;
}

function uploadForm(list: List, say: ReturnType<typeof notice>): HTMLElement {
  const file = h('input', { type: 'file', name: 'file', accept: '.qvf,.fapp,application/octet-stream', required: true });
  const name = h('input', { name: 'name', required: true, maxlength: '200', autocomplete: 'off' });
  const bar = h('progress', { max: '1', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const said = h('span', { class: 'progress-text', 'aria-live': 'polite' });
  const go = h('button', { type: 'submit' }, 'Upload');
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f && !name.value) name.value = f.name.replace(/\.(qvf|fapp)$/i, '');
  });
  const form = h('form', { class: 'inline-form', 'aria-label': 'Upload an app' }, field('App file', file), field('Name', name), go, bar, said);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    const f = file.files?.[0];
    if (!f) return;
    go.disabled = true;
    bar.hidden = false;
    const started = performance.now();
    try {
      const app = await upload(f, name.value.trim(), (sent, total) => {
        bar.value = total ? sent / total : 0;
        const secs = (performance.now() - started) / 1000;
        const rate = secs > 0 ? sent / secs : 0;
        said.textContent = `${bytes(sent)} of ${bytes(total)} (${Math.floor((100 * sent) / (total || 1))}%)${rate ? `, ${bytes(rate)}/s` : ''}`;
      });
      said.textContent = '';
      say.ok(`Uploaded ${app.name}.`);
      form.reset();
      await list.load();
    } catch (err) {
      say.fail(err);
    } finally {
      go.disabled = false;
      bar.hidden = true;
    }
  });
  return form;
}

/** A select of streams that publishes the app to the chosen one, or moves it there when it
 * is published already (a PUT of the app with the new stream, as Qlik's console does it). */
function publisher(r: Row, streams: Stream[], list: List, say: ReturnType<typeof notice>): Node {
  const pick = h('select', { 'aria-label': `Stream for ${String(r.name)}` }, h('option', { value: '' }, r.published ? 'Move to…' : 'Publish to…'));
  for (const s of streams) if (s.name !== r.stream) pick.append(h('option', { value: s.id }, s.name));
  pick.addEventListener('change', async () => {
    const id = pick.value;
    if (!id) return;
    say.clear();
    pick.disabled = true;
    try {
      if (r.published) {
        const app = await get<Record<string, unknown>>(`/app/${r.id}`);
        await put(`/app/${r.id}`, { ...app, stream: { id } });
      } else {
        await put(`/app/${r.id}/publish?stream=${id}`);
      }
      say.ok(`${String(r.name)} is in ${streams.find((s) => s.id === id)?.name ?? 'the stream'}.`);
      await list.load();
    } catch (err) {
      say.fail(err);
      pick.value = '';
    } finally {
      pick.disabled = false;
    }
  });
  return pick;
}

interface AppObject {
  engineObjectId: string;
  objectType: string;
  name: string;
  parent?: string;
  scriptCreated: boolean;
}

/** An app's objects (sheets, their charts, bookmarks, master items, variables) in `box`. */
async function showObjects(box: HTMLElement, id: string, name: string): Promise<string> {
  const objects = await get<AppObject[]>(`/app/${id}/objects`);
  const title = new Map(objects.map((o) => [o.engineObjectId, o.name]));
  box.hidden = false;
  box.replaceChildren(
    h('h2', {}, `Objects of ${name}`),
    objects.length
      ? h(
          'table',
          { 'aria-label': `Objects of ${name}` },
          h('thead', {}, h('tr', {}, ...['Type', 'Title', 'On', 'Id'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...objects.map((o) =>
              h(
                'tr',
                { 'data-id': o.engineObjectId },
                h('td', {}, o.objectType + (o.scriptCreated ? ' (from the script)' : '')),
                h('td', {}, o.name),
                h('td', {}, o.parent ? (title.get(o.parent) ?? o.parent) : ''),
                h('td', {}, h('code', {}, o.engineObjectId)),
              ),
            ),
          ),
        )
      : h('p', { class: 'hint' }, `${name} holds no objects yet: sheets, bookmarks and master items made in the hub are saved in the app.`),
  );
  return `${name} holds ${objects.length} object${objects.length === 1 ? '' : 's'}.`;
}

export async function appsPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const objectsBox = h('section', { class: 'objects', hidden: true, 'aria-live': 'polite' });
  const editBox = h('section', { class: 'editing', hidden: true });
  let streams: Stream[] = [];
  try {
    streams = await get<Stream[]>('/stream?orderby=name');
  } catch (err) {
    say.fail(err);
  }
  const list: List = new List({
    type: 'app',
    label: 'Apps',
    searchOn: 'name',
    sortColumn: 'c0',
    columns: [
      { title: 'Name', path: 'name', cell: (r) => String(r.value ?? '') },
      { title: 'Stream', path: 'stream.name' },
      { title: 'Owner', path: 'owner.userId' },
      { title: 'Size', path: 'fileSize', cell: (r) => (typeof r.value === 'number' ? bytes(r.value) : '') },
      { title: 'Last reload', path: 'lastReloadTime' },
    ],
    extra: { name: 'name', published: 'published', stream: 'stream.name' },
    actions: (r) => {
      const may = new Set(r.may);
      const out: Node[] = [h('a', { class: 'quiet-link', href: `${prefix}/sense/app/${r.id}` }, 'Open')];
      if (may.has('update'))
        out.push(
          action('Reload', async () => {
            await post(`/app/${r.id}/reload`);
            await list.load();
            return `${String(r.name)} reloaded.`;
          }, say),
        );
      if (streams.length && (r.published ? may.has('update') : may.has('publish'))) out.push(publisher(r, streams, list, say));
      out.push(action('Objects', async () => showObjects(objectsBox, r.id, String(r.name)), say));
      if (may.has('update'))
        out.push(
          action('Tags', () =>
            editEntity(editBox, {
              type: 'app',
              id: r.id,
              name: String(r.name),
              say,
              saved: () => list.load(),
              fields: labelFields('App'),
            }), say),
        );
      out.push(
        action('Copy', async () => {
          const name = prompt(`A name for the copy of ${String(r.name)}`, `${String(r.name)} (copy)`);
          if (!name) return;
          const copy = await post<{ name: string }>(`/app/${r.id}/copy?name=${encodeURIComponent(name)}`);
          await list.load();
          return `${copy.name} is a copy of ${String(r.name)}.`;
        }, say),
      );
      if (may.has('export'))
        out.push(
          action('Export', async () => {
            const token = await get<string>(`/app/${r.id}/export`);
            const made = await post<{ downloadPath: string }>(`/app/${r.id}/export/${token}?skipdata=false`);
            const a = h('a', { href: `${prefix}${made.downloadPath}`, download: '' });
            document.body.append(a);
            a.click();
            a.remove();
            return `${String(r.name)} is being downloaded.`;
          }, say),
        );
      if (may.has('update'))
        out.push(
          action('Replace', async () => {
            const from = prompt(`The name of the app whose content replaces ${String(r.name)}'s (its sheets, script and data; ${String(r.name)} keeps its id, name and stream)`);
            if (!from) return;
            await put(`/app/${await appNamed(from)}/replace?app=${r.id}`);
            await list.load();
            return `${String(r.name)} has the content of ${from} now.`;
          }, say),
        );
      if (may.has('delete'))
        out.push(
          action('Delete', async () => {
            if (!confirm(`Delete the app ${String(r.name)}? Its file goes too.`)) return;
            await del(`/app/${r.id}`);
            await list.load();
            return `${String(r.name)} is deleted.`;
          }, say, { class: 'danger' }),
        );
      return out;
    },
  });
  main.replaceChildren(heading('Apps'), uploadForm(list, say), say, editBox, objectsBox, list.el);
  await list.load();
}
