import { h } from '../dom.js';

/** What a view shows when the signed-in key lacks the scope it needs. */
export function missingScope(container, title, scope, ctx) {
  container.append(
    h('h1', {}, title),
    h('p', { class: 'notice warn', role: 'status', dataset: { missingScope: scope } },
      `This key (${ctx.self.key_id}) lacks the '${scope}' scope, so the server would refuse this view. Sign in with a key that has it.`));
}
