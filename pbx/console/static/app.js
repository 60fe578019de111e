// Centralino operator console: page state and wiring between the server (api.js, ws.js), the
// softphone (phone.js) and the UI parts (ui/*). The protocol is docs/console-protocol.md.
import { t, setLang, pickLanguage, onLangChange, languages, getLang } from './i18n.js';
import { api, setCsrf } from './api.js';
import { ConsoleSocket } from './ws.js';
import { Phone, pcCount } from './phone.js';
import { h, elapsedSince, remainingUntil, serverNow, setServerNow, tr } from './util.js';
import { setupLogin } from './ui/login.js';
import { renderStatus, renderWsState } from './ui/header.js';
import { renderQueues, renderRecent } from './ui/lists.js';
import { renderOffers, sortedOffers } from './ui/offers.js';
import { CallPanel, isLive } from './ui/callpanel.js';
import { MessageForm } from './ui/message.js';
import { toast } from './ui/toast.js';
import { chime } from './ui/ring.js';

const ANSWER_TIMEOUT_MS = 15000; // no `answered` by then: give up on the WebRTC leg
const RING_EVERY_MS = 5000;

const state = {
  operator: null,        // {username, name, tenants, language?}
  status: { status: '', until: '', reason: '' },
  queues: [],
  offers: new Map(),     // call id → offer message {call, pop, expires}
  call: null,            // {call, state, reason, person, pop, since, endedAt?}
  answering: null,       // call id whose `answer` is being prepared or awaits `answered`
  muted: false,
  recent: [],
  ws: 'offline',
};

const $ = (id) => document.getElementById(id);
const nowIso = () => new Date(serverNow()).toISOString();

const phone = new Phone($('remote-audio'), { onConnectionState });
const socket = new ConsoleSocket({
  onMessage,
  onState: (s) => { state.ws = s; renderWsState(s); },
  checkSession: async () => {
    try { await api.session(); return 'ok'; } catch (e) { return e.status === 401 ? 'unauthorized' : 'error'; }
  },
  onUnauthorized: () => sessionExpired(),
});
const login = setupLogin(startSession);
const callPanel = new CallPanel({
  hangup: () => state.call && send({ type: 'hangup', call: state.call.call }),
  mute: () => { state.muted = phone.setMuted(!state.muted); render(); },
  hold: () => state.call && send({ type: 'hold', call: state.call.call, on: state.call.state !== 'held' }),
  digit: (d) => {
    if (phone.sendDTMF(d)) return true;
    toast(t('call.dtmfUnavailable'), 'error');
    return false;
  },
  transfer: (mode, person) => state.call && person && send({ type: 'transfer', call: state.call.call, mode, person }),
  complete: () => state.call && send({ type: 'transfer_complete', call: state.call.call }),
  cancel: () => state.call && send({ type: 'transfer_cancel', call: state.call.call }),
  dismiss: () => { if (state.call && !isLive(state.call)) { state.call = null; render(); } },
});
const messageForm = new MessageForm({ onSaved: () => refreshRecent() });

let answerTimer = null;
let ringTimer = null;

// ---- session ----

async function boot() {
  setLang(pickLanguage(null));
  fillLanguageSelects();
  try {
    startSession(await api.session());
  } catch (e) {
    showLogin(e.status === 0 ? t('login.network') : '');
  } finally {
    $('boot').hidden = true;
  }
}

function startSession(session) {
  setCsrf(session.csrf);
  state.operator = session;
  setLang(pickLanguage(session.language));
  login.hide();
  $('app-view').hidden = false;
  renderOperator();
  render();
  socket.start();
  refreshRecent();
}

function showLogin(message) {
  $('app-view').hidden = true;
  login.show(message);
}

async function logout() {
  socket.stop();
  phone.close();
  try { await api.logout(); } catch { /* the session may already be gone; we log out locally anyway */ }
  resetSession();
  showLogin('');
}

function sessionExpired() {
  phone.close();
  resetSession();
  showLogin(t('login.expired'));
}

function resetSession() {
  setCsrf('');
  clearTimeout(answerTimer);
  Object.assign(state, {
    operator: null, status: { status: '', until: '', reason: '' }, queues: [], offers: new Map(),
    call: null, answering: null, muted: false, recent: [],
  });
  messageForm.clear();
  render();
}

// ---- WebSocket messages ----

function send(msg) {
  if (socket.send(msg)) return true;
  toast(t('error.offline'), 'error');
  return false;
}

function onMessage(m) {
  switch (m.type) {
    case 'hello': onHello(m); break;
    case 'status':
      state.status = { status: m.status, until: m.until || '', reason: m.reason || '' };
      break;
    case 'queues': state.queues = m.queues || []; break;
    case 'offer': onOffer(m); break;
    case 'offer_gone': onOfferGone(m); break;
    case 'answered': onAnswered(m); return; // async; renders itself
    case 'call': applyCall(m); break;
    case 'message_saved':
      if (messageForm.ctx && messageForm.ctx.call === m.call) messageForm.showSaved(m.id);
      refreshRecent();
      break;
    case 'error': onServerError(m); break;
    default: return; // pong and anything newer than this page
  }
  render();
}

function onHello(m) {
  if (m.now) setServerNow(m.now); // optional (proposed in the protocol doc)
  state.operator = { ...state.operator, ...m.operator };
  if (m.operator?.language) setLang(pickLanguage(m.operator.language));
  renderOperator();
  state.status = typeof m.status === 'object' && m.status
    ? { status: m.status.status, until: m.status.until || '', reason: m.status.reason || '' }
    : { status: m.status || '', until: m.until || '', reason: m.reason || '' };
  state.queues = m.queues || [];
  state.offers = new Map((m.offers || []).map((o) => [o.call, o]));

  // An `answer` sent on the old connection will not get its `answered` on this one.
  if (state.answering) abortAnswer();

  if (m.call) {
    // A reloaded page has no audio for the call: it is shown, the server keeps the caller.
    if (!phone.hasMedia(m.call.call)) phone.close();
    applyCall(m.call);
  } else {
    phone.close();
    if (isLive(state.call)) endLocally(state.call.reason);
  }
  refreshRecent();
}

function onOffer(m) {
  if (isLive(state.call) && state.call.call === m.call) return; // already ours
  const isNew = !state.offers.has(m.call);
  state.offers.set(m.call, m);
  if (isNew) {
    const p = m.pop || {};
    $('announcer').textContent = `${t('offers.announce', { tenant: p.tenant_name || p.tenant || '' })}. ${p.answer_phrase || ''}`;
  }
}

function onOfferGone(m) {
  state.offers.delete(m.call);
  // 'taken' may mean taken by us: then `answered` (or an error) follows.
  if (state.answering === m.call && m.reason !== 'taken') {
    abortAnswer();
    toast(tr('offers.gone', m.reason) || t('offers.gone.caller-hangup'));
  }
}

async function onAnswered(m) {
  if (state.answering !== m.call || !phone.hasMedia(m.call)) return; // not ours, or given up
  clearTimeout(answerTimer);
  try {
    await phone.accept(m.call, m.sdp);
  } catch (e) {
    toast(t('error.generic', { error: e.message }), 'error');
  }
  state.answering = null;
  if (!state.call || state.call.call !== m.call) {
    applyCall({ call: m.call, state: 'connecting', pop: m.pop }); // pop falls back to the offer's
  }
  state.offers.delete(m.call);
  render();
}

function onServerError(m) {
  toast(m.error || t('error.generic', { error: m.ref || '?' }), 'error');
  if (m.ref === 'answer' && m.call) state.offers.delete(m.call); // the server withdrew it; a new `offer` may follow
  if (state.answering && (m.call === state.answering || (!m.call && m.ref === 'answer'))) abortAnswer();
}

// applyCall takes a `call` message (or hello.call) as the new current call.
function applyCall(c) {
  const prev = state.call && state.call.call === c.call ? state.call : null;
  const consulting = c.state === 'consult-ringing' || c.state === 'consult-talking';
  const next = {
    call: c.call,
    state: c.state,
    reason: c.reason || '',
    person: c.person || (consulting ? prev?.person : null) || null,
    pop: c.pop || prev?.pop || state.offers.get(c.call)?.pop || null,
    since: c.since || prev?.since || nowIso(),
  };
  if (!prev) state.muted = false;
  state.offers.delete(c.call);
  if (c.state === 'ended') {
    next.endedAt = prev?.endedAt || serverNow();
    if (phone.hasMedia(c.call)) phone.close();
    if (state.answering === c.call) abortAnswer();
    state.muted = false;
    if (!prev || prev.state !== 'ended') setTimeout(refreshRecent, 800); // let the call log catch up
  }
  state.call = next;
  messageForm.offerCall(next.call, next.pop);
}

// endLocally marks the current call ended when the server no longer reports it (after a reconnect).
function endLocally(reason) {
  state.call = { ...state.call, state: 'ended', reason: reason || '', endedAt: serverNow() };
  state.muted = false;
  refreshRecent();
}

// ---- answering ----

async function answerOffer(callId) {
  if (state.answering || isLive(state.call) || !state.offers.has(callId)) return;
  if (!socket.connected) { toast(t('error.offline'), 'error'); return; }
  state.answering = callId;
  render();
  try {
    const sdp = await phone.answer(callId);
    if (state.answering !== callId) { phone.close(); return; } // the offer went away meanwhile
    if (!socket.send({ type: 'answer', call: callId, sdp })) throw new Error(t('error.offline'));
    clearTimeout(answerTimer);
    answerTimer = setTimeout(() => {
      if (state.answering !== callId) return;
      abortAnswer();
      toast(t('error.answerTimeout'), 'error');
      render();
    }, ANSWER_TIMEOUT_MS);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (state.answering === callId) abortAnswer();
    const mic = ['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError', 'SecurityError'];
    toast(mic.includes(e.name) ? t('call.micError', { error: e.message || e.name }) : t('error.generic', { error: e.message }), 'error');
    render();
  }
}

function abortAnswer() {
  clearTimeout(answerTimer);
  if (state.answering && phone.hasMedia(state.answering)) phone.close();
  state.answering = null;
}

function onConnectionState(s, callId) {
  // Fallback when the server does not send `call` right after `answered`: media up means talking.
  if (s === 'connected' && state.call?.call === callId && state.call.state === 'connecting') {
    state.call.state = 'talking';
    render();
  }
  if (s === 'failed') toast(t('call.mediaFailed'), 'error');
}

// ---- rendering ----

function tenantName(id) {
  const q = state.queues.find((x) => x.tenant === id);
  if (q?.name) return q.name;
  const tn = (state.operator?.tenants || []).find((x) => x && typeof x === 'object' && (x.id === id || x.tenant === id));
  return tn?.name || id || '';
}

function renderOperator() {
  $('operator-name').textContent = state.operator?.name || state.operator?.username || '';
}

let offersKey = '';

function render(force = false) {
  renderStatus(state.status);
  renderQueues($('queue-list'), $('queues-total'), state.queues);

  const live = isLive(state.call);
  const key = JSON.stringify([getLang(), [...state.offers.keys()], state.answering, live]);
  if (force || key !== offersKey || [...state.offers.values()].some((o) => !o.rendered)) {
    offersKey = key;
    state.offers.forEach((o) => { o.rendered = true; });
    renderOffers($('offers'), state.offers, { answering: state.answering, canAnswer: !live, onAnswer: answerOffer });
  }

  callPanel.render({ call: state.call, hasMedia: !!state.call && phone.hasMedia(state.call.call), muted: state.muted }, force);

  $('idle').hidden = state.offers.size > 0 || !!state.call;
  const idle = { available: 'idle.available', paused: 'idle.paused', 'wrap-up': 'idle.wrapup' }[state.status.status];
  $('idle-text').textContent = idle ? t(idle) : '';

  const waiting = state.offers.size > 0 && !live;
  document.title = waiting ? `${t('offers.titleBadge', { n: state.offers.size })} — ${t('app.title')}` : t('app.title');
  updateRinging(waiting && !state.answering);
  tick();
}

function updateRinging(on) {
  if (on && !ringTimer) {
    chime();
    ringTimer = setInterval(chime, RING_EVERY_MS);
  } else if (!on && ringTimer) {
    clearInterval(ringTimer);
    ringTimer = null;
  }
}

async function refreshRecent() {
  if (!state.operator) return;
  try {
    state.recent = (await api.recent()) || [];
  } catch (e) {
    if (e.status === 401) return;
    if (!state.recent?.length) state.recent = null; // keep an older list rather than an error
  }
  renderRecent($('recent-list'), state.recent, tenantName);
}

// tick refreshes every running clock on the page: waits (data-since), countdowns (data-until).
function tick() {
  const now = serverNow();
  document.querySelectorAll('[data-since]').forEach((el) => {
    el.textContent = elapsedSince(el.dataset.since);
    if (el.dataset.longAfter) el.classList.toggle('long', now - Date.parse(el.dataset.since) > Number(el.dataset.longAfter));
  });
  document.querySelectorAll('[data-until]').forEach((el) => { el.textContent = remainingUntil(el.dataset.until); });
}

function fillLanguageSelects() {
  for (const id of ['lang-select', 'login-lang']) {
    const sel = $(id);
    sel.replaceChildren(...languages.map((l) => h('option', { value: l }, t(`lang.${l}`))));
    sel.value = getLang();
    sel.onchange = () => setLang(sel.value, true);
  }
}

onLangChange(() => {
  fillLanguageSelects();
  renderWsState(state.ws);
  messageForm.render();
  if (state.operator) {
    render(true);
    renderRecent($('recent-list'), state.recent, tenantName);
  }
});

// ---- page events ----

$('status-available').addEventListener('click', () => send({ type: 'status', status: 'available' }));
$('status-paused').addEventListener('click', () => send({ type: 'status', status: 'paused' }));
$('logout').addEventListener('click', logout);

// Enter answers the top offer, unless the operator is typing or on a control.
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter' || ev.repeat || ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  if (!state.operator || $('app-view').hidden) return;
  const target = ev.target;
  if (target.closest && target.closest('input, textarea, select, button, a, form, [contenteditable]')) return;
  const top = sortedOffers(state.offers)[0];
  if (!top || state.answering || isLive(state.call)) return;
  ev.preventDefault();
  answerOffer(top.call);
});

// Leaving the page: hang up our WebRTC leg so the browser does not keep the microphone.
window.addEventListener('pagehide', () => phone.close());
window.addEventListener('beforeunload', () => phone.close());

setInterval(tick, 1000);

// Test and diagnostics hooks (read-only).
window.centralinoConsole = {
  async stats() { return phone.stats(); },
  pcCount() { return pcCount(); },
  state() {
    return {
      status: state.status.status || null,
      call: isLive(state.call) ? state.call.call : null,
      callState: state.call ? state.call.state : null,
      offers: sortedOffers(state.offers).map((o) => o.call),
      ws: state.ws,
    };
  },
};

boot();
