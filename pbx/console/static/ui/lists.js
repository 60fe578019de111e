// The side lists: queues (waiting callers per tenant) and the operator's recent calls.
import { h, formatNumber, timeLabel } from '../util.js';
import { dispositionText } from './pop.js';
import { t } from '../i18n.js';

const LONG_WAIT_MS = 60000; // waits past a minute are shown in red by the ticker

// renderQueues shows only tenants with someone waiting (an operator may serve hundreds of tenants),
// the tenant whose caller waits longest first.
export function renderQueues(listEl, totalEl, queues) {
  const busy = (queues || []).filter((q) => q.waiting && q.waiting.length);
  const oldest = (q) => Math.min(...q.waiting.map((w) => Date.parse(w.since) || Infinity));
  busy.sort((a, b) => oldest(a) - oldest(b));
  const total = busy.reduce((n, q) => n + q.waiting.length, 0);
  totalEl.textContent = total ? t('queues.waitingCount', { n: total }) : '';
  if (!busy.length) {
    listEl.replaceChildren(h('p', { class: 'muted' }, t('queues.empty')));
    return;
  }
  listEl.replaceChildren(...busy.map((q) => h('div', { class: 'queue', dataset: { tenant: q.tenant } },
    h('p', { class: 'queue-name' }, h('span', null, q.name || q.tenant), h('span', { class: 'count' }, q.waiting.length)),
    h('ul', null, q.waiting.map((w) => h('li', { class: 'waiter', dataset: { call: w.call } },
      h('span', { class: 'who' }, w.caller_name || formatNumber(w.caller) || t('queues.anonymous'),
        w.caller_name && w.caller ? h('span', { class: 'muted' }, ' · ', formatNumber(w.caller)) : null),
      h('span', { class: 'wait', dataset: { since: w.since, longAfter: LONG_WAIT_MS } }, '')))))));
}

// renderRecent: newest first, as the server sends them. tenantName maps tenant ids to names.
export function renderRecent(listEl, calls, tenantName) {
  if (calls === null) {
    listEl.replaceChildren(h('li', { class: 'muted' }, t('recent.loadFailed')));
    return;
  }
  if (!calls.length) {
    listEl.replaceChildren(h('li', { class: 'muted' }, t('recent.empty')));
    return;
  }
  listEl.replaceChildren(...calls.map((c) => {
    const meta = [timeLabel(c.start), tenantName(c.tenant), dispositionText(c.disposition, c.answered_by)];
    if (c.message) meta.push(t('recent.message'));
    return h('li', { dataset: { call: c.id } },
      h('div', { class: 'who' }, c.caller_name || formatNumber(c.caller) || t('queues.anonymous'),
        c.caller_name && c.caller ? h('span', { class: 'muted' }, ' · ', formatNumber(c.caller)) : null),
      h('div', { class: 'meta' }, meta.filter(Boolean).join(' · ')));
  }));
}
