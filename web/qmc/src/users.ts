// Users: the list, a form that adds a person to the INTERNAL directory, and for those
// people a new password, their roles, and blocking (which ends their sessions). People of
// other directories are shown as their directory gives them.
import { h } from '../../common/dom';
import { get, post, put } from './api';
import { editEntity, labelFields } from './editor';
import { List } from './list';
import { action, field, heading, notice } from './ui';

const ROLES = ['RootAdmin', 'ContentAdmin', 'SecurityAdmin', 'DeploymentAdmin', 'AuditAdmin'];

export async function usersPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const editBox = h('section', { class: 'editing', hidden: true });
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
    extra: { userId: 'userId', dir: 'userDirectory', roles: 'roles', blocked: 'blacklisted' },
    actions: (r) => {
      if (!r.may.includes('update')) return [];
      /* anyone's tags and custom properties are the site's to give */
      const labels = action('Tags', () =>
        editEntity(editBox, { type: 'user', id: r.id, name: `${String(r.dir)}\\${String(r.userId)}`, say, saved: () => list.load(), fields: labelFields('User') }), say);
      /* people of other directories come from their directory: shown, not changed here */
      if (r.dir !== 'INTERNAL') return [labels];
      const who = `INTERNAL\\${String(r.userId)}`;
      const change = async (edit: (u: Record<string, unknown>) => void): Promise<void> => {
        const u = await get<Record<string, unknown>>(`/user/${r.id}`);
        edit(u);
        await put(`/user/${r.id}`, u);
        await list.load();
      };
      return [
        action('Set password', async () => {
          const pw = prompt(`A new password for ${who} (at least 8 characters; their sessions end)`);
          if (!pw) return;
          await put(`/user/${r.id}/password`, { password: pw });
          return `${who} has a new password.`;
        }, say),
        action('Roles', async () => {
          const now = Array.isArray(r.roles) ? (r.roles as string[]).join(', ') : '';
          const next = prompt(`Roles of ${who}, separated by commas (${ROLES.join(', ')})`, now);
          if (next === null) return;
          const roles = next.split(',').map((x) => x.trim()).filter(Boolean);
          await change((u) => {
            u.roles = roles;
          });
          return `${who} has the roles ${roles.join(', ') || '(none)'}.`;
        }, say),
        action(r.blocked ? 'Unblock' : 'Block', async () => {
          await change((u) => {
            u.blacklisted = !r.blocked;
          });
          return r.blocked ? `${who} may sign in again.` : `${who} is blocked: signed out and kept out.`;
        }, say),
        labels,
      ];
    },
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
    say.clear();
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
  main.replaceChildren(heading('Users'), form, say, editBox, list.el);
  await list.load();
}
