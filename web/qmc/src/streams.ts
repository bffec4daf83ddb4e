// Streams and users: lists with the forms that add to them.
import { h } from '../../common/dom';
import { del, post, put } from './api';
import { List } from './list';
import { action, field, heading, notice } from './ui';

export async function streamsPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const list: List = new List({
    type: 'stream',
    label: 'Streams',
    searchOn: 'name',
    sortColumn: 'c0',
    columns: [
      { title: 'Name', path: 'name' },
      { title: 'Owner', path: 'owner.userId' },
      { title: 'Created', path: 'createdDate' },
    ],
    extra: { name: 'name' },
    actions: (r) =>
      r.may.includes('delete')
        ? [
            action('Delete', async () => {
              if (!confirm(`Delete the stream ${String(r.name)}? Its apps stay, unpublished.`)) return;
              await del(`/stream/${r.id}`);
              await list.load();
              return `${String(r.name)} is deleted.`;
            }, say, { class: 'danger' }),
          ]
        : [],
  });
  const name = h('input', { name: 'name', required: true, maxlength: '200', autocomplete: 'off' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'Create a stream' }, field('New stream', name), h('button', { type: 'submit' }, 'Create'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post('/stream', { name: name.value.trim() });
      say.ok(`${name.value.trim()} is created.`);
      form.reset();
      await list.load();
    } catch (err) {
      say.fail(err);
    }
  });
  main.replaceChildren(heading('Streams'), form, say, list.el);
  await list.load();
}

const ROLES = ['RootAdmin', 'ContentAdmin', 'SecurityAdmin', 'DeploymentAdmin', 'AuditAdmin'];

export async function usersPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const list: List = new List({
    type: 'user',
    label: 'Users',
    searchOn: 'userId',
    sortColumn: 'c0',
    columns: [
      { title: 'User id', path: 'userId' },
      { title: 'Directory', path: 'userDirectory' },
      { title: 'Name', path: 'name' },
      { title: 'Roles', path: 'roles' },
      { title: 'Blocked', path: 'blacklisted', cell: (r) => (r.value ? 'yes' : '') },
    ],
    extra: { userId: 'userId' },
  });
  const id = h('input', { name: 'userId', required: true, maxlength: '200', autocomplete: 'off' });
  const pw = h('input', { name: 'password', type: 'password', required: true, minlength: '8', autocomplete: 'new-password' });
  const roles = ROLES.map((r) => h('input', { type: 'checkbox', name: 'role', value: r }));
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Add a user' },
    field('New user (INTERNAL)', id),
    field('Password', pw),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Roles'), ...roles.map((c) => h('label', {}, c, c.value))),
    h('button', { type: 'submit' }, 'Add'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const user = await post<{ id: string }>('/user', {
        userId: id.value.trim(),
        userDirectory: 'INTERNAL',
        name: id.value.trim(),
        roles: roles.filter((c) => c.checked).map((c) => c.value),
      });
      await put(`/user/${user.id}/password`, { password: pw.value });
      say.ok(`INTERNAL\\${id.value.trim()} may sign in.`);
      form.reset();
      await list.load();
    } catch (err) {
      say.fail(err);
    }
  });
  main.replaceChildren(heading('Users'), form, say, list.el);
  await list.load();
}
