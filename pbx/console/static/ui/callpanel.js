// The in-call panel: state, timer, hang up / mute / hold, transfer, keypad, and the screen pop.
// The controls are static markup in index.html; render() only updates them.
import { h, duration, tr } from '../util.js';
import { t } from '../i18n.js';
import { renderPop, personName } from './pop.js';

const LIVE = ['connecting', 'talking', 'held', 'consult-ringing', 'consult-talking'];
const KEYS = [['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5'], ['6', '6'],
  ['7', '7'], ['8', '8'], ['9', '9'], ['*', 'star'], ['0', '0'], ['#', 'hash']];

export const isLive = (call) => !!call && LIVE.includes(call.state);

export class CallPanel {
  // actions: {hangup, mute, hold, digit(d), transfer(mode, person), complete, cancel, dismiss}
  constructor(actions) {
    const $ = (id) => document.getElementById(id);
    this.el = {
      panel: $('call-panel'), title: $('call-title'), state: $('call-state'), timer: $('call-timer'),
      reason: $('call-reason'), mute: $('btn-mute'), hold: $('btn-hold'), hangup: $('btn-hangup'),
      dismiss: $('call-dismiss'), noAudio: $('call-noaudio'), tools: $('call-tools'),
      person: $('transfer-person'), blind: $('btn-transfer-blind'), warm: $('btn-transfer-warm'),
      consult: $('consult'), consultState: $('consult-state'), complete: $('btn-transfer-complete'),
      cancel: $('btn-transfer-cancel'), keypad: $('keypad'), dtmfSent: $('dtmf-sent'), pop: $('call-pop'),
    };
    this.shownPop = null;
    this.shownCall = null;

    const e = this.el;
    e.hangup.addEventListener('click', actions.hangup);
    e.mute.addEventListener('click', actions.mute);
    e.hold.addEventListener('click', actions.hold);
    e.dismiss.addEventListener('click', actions.dismiss);
    e.blind.addEventListener('click', () => actions.transfer('blind', e.person.value));
    e.warm.addEventListener('click', () => actions.transfer('warm', e.person.value));
    e.complete.addEventListener('click', actions.complete);
    e.cancel.addEventListener('click', actions.cancel);
    e.person.addEventListener('change', () => this.render(this.lastView));
    e.keypad.replaceChildren(...KEYS.map(([digit, name]) => h('button', {
      type: 'button', testid: `keypad-${name}`, 'aria-label': digit,
      onclick: () => { if (actions.digit(digit)) e.dtmfSent.textContent += digit; },
    }, digit)));
  }

  // view: {call, hasMedia, muted}; force re-renders the pop (language change).
  render(view, force = false) {
    this.lastView = view;
    const { call, hasMedia, muted } = view;
    const e = this.el;
    e.panel.hidden = !call;
    if (!call) { this.shownPop = null; this.shownCall = null; return; }

    if (this.shownCall !== call.call) { // a new call: clear per-call bits
      this.shownCall = call.call;
      e.dtmfSent.textContent = '';
      e.person.value = '';
    }
    const live = isLive(call);
    const ended = call.state === 'ended';
    e.panel.classList.toggle('ended', ended);
    e.panel.dataset.state = call.state;
    e.panel.dataset.call = call.call;
    e.title.textContent = ended ? t('call.endedTitle') : t('call.title');

    const who = personName(call.pop, call.person);
    e.state.textContent = t(`call.state.${call.state}`, { person: who || '…' });
    e.state.dataset.state = call.state;
    e.reason.hidden = !(ended && call.reason);
    e.reason.textContent = call.reason ? t('call.reason', { reason: tr('call.reason', call.reason) }) : '';

    if (ended) {
      delete e.timer.dataset.since;
      e.timer.textContent = call.since ? duration((call.endedAt || Date.now()) - Date.parse(call.since)) : '';
    } else if (call.since) {
      e.timer.dataset.since = call.since;
    }

    const canTalk = ['talking', 'consult-talking'].includes(call.state);
    e.hangup.hidden = ended;
    e.mute.hidden = ended || !hasMedia;
    e.hold.hidden = ended;
    e.dismiss.hidden = !ended;
    e.tools.hidden = ended;
    e.noAudio.hidden = ended || hasMedia || call.state === 'connecting';

    e.hangup.disabled = !live;
    e.mute.disabled = !live || !hasMedia;
    e.mute.textContent = muted ? t('call.unmute') : t('call.mute');
    e.mute.setAttribute('aria-pressed', String(!!muted));
    const held = call.state === 'held';
    e.hold.disabled = !['talking', 'held'].includes(call.state);
    e.hold.textContent = held ? t('call.unhold') : t('call.hold');
    e.hold.setAttribute('aria-pressed', String(held));
    e.keypad.querySelectorAll('button').forEach((b) => { b.disabled = !canTalk || !hasMedia; });

    this.renderPeople(call.pop);
    const consulting = ['consult-ringing', 'consult-talking'].includes(call.state);
    const canTransfer = ['talking', 'held'].includes(call.state);
    e.person.disabled = !canTransfer;
    e.blind.disabled = !canTransfer || !e.person.value;
    e.warm.disabled = !canTransfer || !e.person.value;
    e.consult.hidden = !consulting;
    e.consultState.textContent = consulting ? e.state.textContent : '';
    e.complete.disabled = call.state !== 'consult-talking';
    e.cancel.disabled = !consulting;

    if (force || this.shownPop !== call.pop) {
      this.shownPop = call.pop;
      e.pop.replaceChildren(call.pop ? renderPop(call.pop) : '');
    }
  }

  // renderPeople fills the transfer select from the pop's people, keeping the current choice.
  renderPeople(pop) {
    const sel = this.el.person;
    const people = pop?.people || [];
    const key = JSON.stringify([document.documentElement.lang, people.map((p) => [p.id, p.name, p.status_text, p.reachable])]);
    if (sel.dataset.key === key) return;
    sel.dataset.key = key;
    const keep = sel.value;
    sel.replaceChildren(
      h('option', { value: '' }, t('call.transferChoose')),
      ...people.map((p) => {
        const note = p.reachable === false ? t('pop.unreachable') : (p.status_text || tr('person.status', p.status));
        return h('option', { value: p.id }, note ? `${p.name} — ${note}` : p.name);
      }));
    sel.value = people.some((p) => p.id === keep) ? keep : '';
  }
}
