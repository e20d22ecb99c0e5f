// Sign-in, the event stream and the hash router (#/sessions?filter=idle, #/agents/planner-7).
import { createApi, ApiError } from './api.js';
import { watchEvents } from './sse.js';
import { Fleet } from './fleet.js';
import { errorText } from './dom.js';
import * as overview from './views/overview.js';
import * as sessions from './views/sessions.js';
import * as topology from './views/topology.js';
import * as agent from './views/agent.js';
import * as registry from './views/registry.js';
import * as events from './views/events.js';
import * as keys from './views/keys.js';

const KEY_STORAGE = 'session-mesh.key';
const VIEWS = { overview, sessions, topology, agents: agent, registry, events, keys };

const $ = (id) => document.getElementById(id);
let session = null;

function signedIn(api, self) {
  const scopes = new Set(self.scopes);
  const has = (scope) => scopes.has(scope) || scopes.has('admin');
  return { api, self, has, fleet: new Fleet(api, self.cluster), stop: new AbortController(), cleanup: null };
}

async function signIn(key) {
  const api = createApi(key);
  const self = await api.get('/keys/self');
  sessionStorage.setItem(KEY_STORAGE, key);
  session = signedIn(api, self);
  $('sign-in').hidden = true;
  document.querySelector('header.top').hidden = false;
  const name = self.name && self.name !== self.key_id ? `${self.name} · ` : '';
  $('who').textContent = `${name}${self.key_id} · cluster ${self.cluster} · ${self.scopes.join(', ')}`;
  startStream(session);
  if (!window.location.hash || window.location.hash === '#') window.location.hash = '#/overview';
  else route();
}

function startStream(current) {
  const state = $('stream-state');
  const show = (text) => { state.textContent = text; document.body.dataset.stream = text; };
  if (!current.has('read')) {
    show('no read scope');
    return;
  }
  show('connecting');
  watchEvents(current.api, {
    onOpen: () => {
      show('live');
      // Listed after the stream is open, so no change falls between the snapshot and the first event.
      if (!current.fleet.loaded) current.fleet.load().catch((error) => show(`error: ${errorText(error)}`));
    },
    onEvent: (event) => current.fleet.apply(event),
    onReset: () => current.fleet.load().catch((error) => show(`error: ${errorText(error)}`)),
    onDrop: () => show('reconnecting'),
    onFatal: (error) => {
      show(`stopped: ${errorText(error)}`);
      if (error.status === 401) signOut(errorText(error));
    },
  }, current.stop.signal);
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  if (session) {
    session.stop.abort();
    session.cleanup?.();
    session = null;
  }
  $('view').replaceChildren();
  document.querySelector('header.top').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  $('key-input').value = '';
  $('key-input').focus();
}

function route() {
  if (!session) return;
  const [path, queryText] = window.location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/');
  const view = VIEWS[name] ?? overview;
  const param = rest.length ? decodeURIComponent(rest.join('/')) : null;
  session.cleanup?.();
  session.cleanup = null;
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', link.getAttribute('href') === `#/${name}` || (name === 'agents' && link.getAttribute('href') === '#/topology'));
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
  const container = document.createElement('div');
  container.className = `view view-${name || 'overview'}`;
  $('view').replaceChildren(container);
  const cleanup = view.render(container, session, { param, query: new URLSearchParams(queryText ?? '') });
  session.cleanup = typeof cleanup === 'function' ? cleanup : null;
  const heading = container.querySelector('h1');
  if (heading) document.title = `${heading.textContent} · session-mesh`;
  // The new view's content is where keyboard and screen-reader users land (the sign-in form they came from is gone).
  $('main').focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('key-input').value.trim();
    $('sign-in-error').textContent = '';
    try {
      await signIn(key);
    } catch (error) {
      $('sign-in-error').textContent = error instanceof ApiError ? `Sign-in refused: ${errorText(error)}` : `Sign-in failed: ${error.message}`;
    }
  });
  $('sign-out').addEventListener('click', () => signOut());
  const stored = sessionStorage.getItem(KEY_STORAGE);
  if (stored) {
    signIn(stored).catch((error) => signOut(`Signed out: ${errorText(error)}`));
  } else {
    $('key-input').focus();
  }
});
