// The screen pop: what the operator needs to read before and during a call.
// Used by the offer cards and by the call panel.
import { h, formatNumber, parseTime, timeLabel, tr } from '../util.js';
import { t } from '../i18n.js';

// personName maps a person id of the pop to a display name.
export function personName(pop, id) {
  if (!id) return '';
  if (typeof id === 'object') return id.name || id.id || '';
  const p = (pop?.people || []).find((x) => x.id === id);
  return p ? p.name : id;
}

export function callerNumber(pop) {
  if (!pop || pop.anonymous) return '';
  return pop.caller_display || formatNumber(pop.caller);
}

// renderPop(pop, {actions, showWaiting}) → <article>. actions goes top-right (the Answer button).
export function renderPop(pop, { actions = null, showWaiting = false } = {}) {
  const p = pop || {};
  const badges = [];
  if (p.vip) badges.push(h('span', { class: 'badge badge-vip' }, t('badge.vip')));
  if (p.blocked) badges.push(h('span', { class: 'badge badge-blocked' }, t('badge.blocked')));
  if (p.anonymous) badges.push(h('span', { class: 'badge' }, t('badge.anonymous')));

  const number = callerNumber(p);
  const meta = [];
  if (p.called_display || p.called) {
    meta.push(h('div', null, h('dt', null, t('pop.called')), h('dd', null, p.called_display || formatNumber(p.called))));
  }
  if (showWaiting && !Number.isNaN(parseTime(p.waiting_since))) {
    meta.push(h('div', null, h('dt', null, t('pop.waiting')), h('dd', { dataset: { since: p.waiting_since } }, '')));
  }

  return h('article', { class: 'pop' },
    h('div', { class: 'pop-head' },
      h('div', null,
        h('p', { class: 'pop-tenant', testid: 'pop-tenant' }, p.tenant_name || p.tenant || ''),
        h('p', { class: 'pop-phrase', testid: 'pop-phrase' }, p.answer_phrase || '')),
      actions),
    h('div', { class: 'pop-caller', testid: 'pop-caller' },
      h('span', { class: 'sr-only' }, t('pop.caller') + ': '),
      number ? h('span', { class: 'number' }, number) : null,
      p.caller_name && p.caller_name !== number ? h('span', { class: 'name' }, p.caller_name) : null,
      badges),
    p.caller_note ? h('p', { class: 'pop-note' }, h('span', { class: 'muted' }, t('pop.note') + ': '), p.caller_note) : null,
    meta.length ? h('dl', { class: 'pop-meta' }, meta) : null,
    p.instructions ? h('section', { class: 'pop-instructions' },
      h('h3', null, t('pop.instructions')),
      h('p', null, p.instructions)) : null,
    h('div', { class: 'pop-grid' }, renderPeople(p), renderHistory(p)));
}

function renderPeople(p) {
  const people = p.people || [];
  return h('section', { class: 'people' },
    h('h3', null, t('pop.staff')),
    people.length === 0 ? h('p', { class: 'muted' }, t('pop.noStaff')) : h('ul', null, people.map((x) => {
      // A short pill for the status; the server's longer text ("in riunione fino alle 15:00") below.
      const short = x.reachable === false ? t('pop.unreachable') : tr('person.status', x.status);
      const ok = x.reachable !== false && (x.status === 'available' || !x.status);
      const detail = x.status_text && x.status_text !== short ? x.status_text : '';
      return h('li', { class: x.reachable === false ? 'unreachable' : '' },
        h('div', { class: 'person' },
          h('span', null, x.name || x.id, x.role ? h('span', { class: 'role' }, ' · ', x.role) : null),
          short ? h('span', { class: `pill ${ok ? 'pill-ok' : 'pill-warn'}` }, short) : null),
        detail ? h('div', { class: 'role' }, detail) : null);
    })));
}

// dispositionText: "risposta da anna" rather than "risposta · risposta da anna".
export function dispositionText(disposition, answeredBy) {
  if (disposition === 'answered' && answeredBy) return t('pop.by', { name: answeredBy });
  return [tr('disp', disposition), answeredBy ? t('pop.by', { name: answeredBy }) : ''].filter(Boolean).join(' · ');
}

function renderHistory(p) {
  const calls = p.history?.calls || [];
  const msgs = p.history?.messages || [];
  const body = [];
  if (calls.length) {
    body.push(h('p', { class: 'sub muted small' }, t('pop.historyCalls')), h('ul', null, calls.map((c) =>
      h('li', null,
        h('span', { class: 'when' }, timeLabel(c.start)),
        dispositionText(c.disposition, c.answered_by)))));
  }
  if (msgs.length) {
    body.push(h('p', { class: 'sub muted small' }, t('pop.historyMessages')), h('ul', null, msgs.map((m) =>
      h('li', null,
        h('span', { class: 'when' }, timeLabel(m.created)),
        m.urgency === 'urgent' ? [h('span', { class: 'badge badge-urgent' }, t('badge.urgent')), ' '] : null,
        m.for ? t('pop.for', { name: personName(p, m.for) }) : t('pop.forOffice'),
        m.reason ? h('div', null, m.reason) : null))));
  }
  return h('section', { class: 'history' },
    h('h3', null, t('pop.history')),
    body.length ? body : h('p', { class: 'muted' }, t('pop.noHistory')));
}
