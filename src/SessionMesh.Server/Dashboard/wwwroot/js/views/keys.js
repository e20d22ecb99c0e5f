// Keys of the cluster (never their secrets), minting with the secret shown once and a copy button, revoking.
import { h, table, time, notice, errorText } from '../dom.js';
import { seg } from '../api.js';
import { missingScope } from './scope.js';

const SCOPES = ['read', 'agent', 'register', 'steer', 'kill', 'keys'];

export function render(container, ctx) {
  if (!ctx.has('keys')) return missingScope(container, 'Keys', 'keys', ctx);
  const message = h('div');
  const secret = h('div');
  const { element, body } = table('Keys', ['Key', 'Name', 'Scopes', 'Agent', 'Cluster', 'State', 'Expires', '']);
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const form = h('form', { class: 'create-key', 'aria-label': 'Create a key' },
    h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name'), h('input', { id: 'key-name', name: 'name', maxlength: '128' })),
    h('fieldset', {}, h('legend', {}, 'Scopes (none: the same as this key)'),
      SCOPES.map((scope) => h('span', { class: 'check' },
        h('input', { type: 'checkbox', id: `key-scope-${scope}`, name: 'scopes', value: scope, disabled: !ctx.has(scope) }),
        h('label', { for: `key-scope-${scope}` }, scope)))),
    h('div', { class: 'field' }, h('label', { for: 'key-ttl' }, 'Lifetime (seconds)'), h('input', { id: 'key-ttl', name: 'ttl', type: 'number', min: '1', value: '3600' })),
    h('div', { class: 'field' }, h('label', { for: 'key-agent' }, 'Bind to agent (optional)'), h('input', { id: 'key-agent', name: 'agent_id', spellcheck: 'false' })),
    h('button', { type: 'submit' }, 'Create key'));
  container.append(h('h1', {}, 'Keys'), message, h('h2', {}, 'Create a key'), form, secret, element, more);

  let cursor = null;
  async function load(reset) {
    try {
      if (reset) { body.replaceChildren(); cursor = null; }
      const page = await ctx.api.get('/keys', { cursor, limit: 100 });
      for (const key of page.items) body.append(keyRow(key));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
    } catch (error) {
      message.replaceChildren(notice(errorText(error), 'error'));
    }
  }

  function keyRow(key) {
    const revoke = key.state === 'active' && key.key_id !== 'root'
      ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${key.key_id}`, onclick: () => revokeKey(key) }, 'Revoke')
      : '';
    return h('tr', { dataset: { keyId: key.key_id, state: key.state } },
      h('th', { scope: 'row' }, h('code', {}, key.key_id)), h('td', {}, key.name ?? ''), h('td', {}, key.scopes.join(', ')),
      h('td', {}, key.agent_id ?? ''), h('td', {}, key.cluster), h('td', {}, key.state), h('td', {}, time(key.expires_at, true)), h('td', {}, revoke));
  }

  async function revokeKey(key) {
    const self = key.key_id === ctx.self.key_id ? ' This is the key you are signed in with: you will be signed out.' : '';
    if (!window.confirm(`Revoke ${key.key_id}${key.name ? ` (${key.name})` : ''}? It stops working at once, for good.${self}`)) return;
    try {
      await ctx.api.del(`/keys/${seg(key.key_id)}`);
      message.replaceChildren(notice(`Revoked ${key.key_id}.`));
      if (secret.querySelector(`[data-key-id="${CSS.escape(key.key_id)}"]`)) secret.replaceChildren();
      await load(true);
    } catch (error) {
      message.replaceChildren(notice(`Revoke refused: ${errorText(error)}`, 'error'));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((input) => input.value);
    const request = { ttl: Number(form.elements.ttl.value) };
    if (scopes.length) request.scopes = scopes;
    if (form.elements.name.value.trim()) request.name = form.elements.name.value.trim();
    if (form.elements.agent_id.value.trim()) request.agent_id = form.elements.agent_id.value.trim();
    try {
      const created = await ctx.api.post('/keys', request);
      showSecret(created);
      form.reset();
      await load(true);
    } catch (error) {
      secret.replaceChildren(notice(`Create refused: ${errorText(error)}`, 'error'));
    }
  });

  function showSecret(created) {
    const field = h('input', { id: 'new-secret', readonly: true, value: created.session_key, spellcheck: 'false', 'aria-describedby': 'new-secret-note' });
    const status = h('span', { role: 'status' });
    const copy = h('button', { type: 'button', onclick: async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(created.session_key);
        status.textContent = 'Copied.';
      } catch {
        status.textContent = 'The browser refused the clipboard: the secret is selected, copy it with the keyboard.';
      }
    } }, 'Copy');
    const dismiss = h('button', { type: 'button', onclick: () => secret.replaceChildren() }, 'I have stored it');
    secret.replaceChildren(h('div', { class: 'secret', role: 'region', 'aria-label': 'New key secret', dataset: { keyId: created.key_id } },
      h('p', { id: 'new-secret-note' }, h('strong', {}, `Secret of ${created.key_id}: shown once.`), ' Store it now; the server keeps only its hash.'),
      h('label', { for: 'new-secret' }, 'Session key'), field, copy, dismiss, status));
    field.focus();
    field.select();
  }

  more.addEventListener('click', () => load(false));
  load(true);
}
