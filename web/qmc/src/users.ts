// Users: the list, and a form that adds a person to the INTERNAL directory.
import { h } from '../../common/dom';
import { post, put } from './api';
import { List } from './list';
import { field, heading, notice } from './ui';

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
