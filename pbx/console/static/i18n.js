// All user-visible strings of the console, Italian first. Keys are grouped by the part of the
// page that uses them. t('key', {name: 'x'}) replaces {name} placeholders.
// Static markup uses data-i18n="key" (text), data-i18n-placeholder, data-i18n-title and
// data-i18n-aria-label; applyI18n() fills them in.

const dict = {
  it: {
    'app.title': 'Centralino — Console operatore',
    'app.brand': 'Centralino',
    'app.loading': 'Caricamento…',

    'login.title': 'Accesso operatore',
    'login.username': 'Nome utente',
    'login.password': 'Password',
    'login.submit': 'Accedi',
    'login.busy': 'Accesso in corso…',
    'login.failed': 'Accesso non riuscito.',
    'login.lockedMinutes': 'Troppi tentativi: riprova tra {minutes} minuti.',
    'login.network': 'Server non raggiungibile. Riprova.',
    'login.expired': 'Sessione scaduta: accedi di nuovo.',

    'header.logout': 'Esci',
    'header.language': 'Lingua',
    'header.status': 'Stato',

    'status.available': 'Disponibile',
    'status.paused': 'In pausa',
    'status.wrap-up': 'Post-chiamata',
    'status.busy': 'In chiamata',
    'status.unknown': '—',
    'status.wrapupLeft': 'Post-chiamata · {time}',
    'status.reason.missed-calls': 'chiamate non risposte',
    'status.reason.missed': 'chiamate non risposte',
    'status.reason.logout': 'disconnesso',
    'status.reason.disconnected': 'disconnesso',

    'ws.connecting': 'Connessione…',
    'ws.connected': 'Connesso',
    'ws.reconnecting': 'Riconnessione…',
    'ws.offline': 'Disconnesso',

    'queues.title': 'Code',
    'queues.empty': 'Nessuno in attesa',
    'queues.waitingCount': '{n} in attesa',
    'queues.anonymous': 'Anonimo',

    'offers.title': 'Chiamate in arrivo',
    'offers.answer': 'Rispondi',
    'offers.answering': 'Collegamento…',
    'offers.answerHint': 'Invio per rispondere',
    'offers.announce': 'Chiamata in arrivo per {tenant}',
    'offers.titleBadge': '({n}) Chiamata in arrivo',
    'offers.gone.caller-hangup': 'Il chiamante ha riagganciato',
    'offers.gone.taken': 'Chiamata presa da un altro operatore',
    'offers.gone.timeout': 'Offerta scaduta',
    'offers.gone.max-wait': 'Attesa massima superata',

    'idle.title': 'Nessuna chiamata',
    'idle.available': 'Sei disponibile: le chiamate appariranno qui.',
    'idle.paused': 'Sei in pausa: non riceverai chiamate.',
    'idle.wrapup': 'Post-chiamata: riceverai chiamate al termine.',

    'pop.tenant': 'Studio',
    'pop.phrase': 'Rispondi con',
    'pop.caller': 'Chiamante',
    'pop.note': 'Nota',
    'pop.called': 'Numero chiamato',
    'pop.waiting': 'In attesa da',
    'pop.instructions': 'Istruzioni',
    'pop.staff': 'Persone',
    'pop.noStaff': 'Nessuna persona configurata',
    'pop.unreachable': 'non raggiungibile',
    'pop.history': 'Contatti precedenti',
    'pop.historyCalls': 'Chiamate',
    'pop.historyMessages': 'Messaggi',
    'pop.noHistory': 'Nessun contatto precedente',
    'pop.for': 'per {name}',
    'pop.forOffice': 'per lo studio',
    'pop.by': 'risposta da {name}',
    'badge.vip': 'VIP',
    'badge.blocked': 'Bloccato',
    'badge.anonymous': 'Anonimo',
    'badge.urgent': 'Urgente',

    'call.title': 'Chiamata in corso',
    'call.endedTitle': 'Chiamata terminata',
    'call.state.connecting': 'Collegamento…',
    'call.state.talking': 'In conversazione',
    'call.state.held': 'In attesa (musica)',
    'call.state.consult-ringing': 'Sto chiamando {person}…',
    'call.state.consult-talking': 'In consultazione con {person}',
    'call.state.ended': 'Terminata',
    'call.reason': 'Motivo: {reason}',
    'call.hangup': 'Riaggancia',
    'call.mute': 'Microfono off',
    'call.unmute': 'Microfono on',
    'call.hold': 'Attesa',
    'call.unhold': 'Riprendi',
    'call.keypad': 'Tastiera',
    'call.transfer': 'Trasferisci a',
    'call.transferChoose': 'Scegli una persona…',
    'call.blind': 'Trasferimento diretto',
    'call.warm': 'Trasferimento con annuncio',
    'call.complete': 'Collega',
    'call.cancel': 'Riprendi il chiamante',
    'call.dismiss': 'Chiudi',
    'call.noAudio': 'La pagina è stata ricaricata: l’audio di questa chiamata non è collegato a questa pagina. Il server continua a gestire il chiamante.',
    'call.mediaFailed': 'Connessione audio persa.',
    'call.micError': 'Microfono non disponibile: {error}',
    'call.dtmfUnavailable': 'Toni DTMF non disponibili su questa connessione.',
    'call.reason.transferred': 'trasferita',
    'call.reason.caller-hangup': 'il chiamante ha riagganciato',
    'call.reason.operator-hangup': 'riagganciato dall’operatore',
    'call.reason.hangup': 'riagganciata',
    'call.reason.browser-gone': 'audio perso: la chiamata è tornata in coda',
    'call.reason.taken-back': 'chiamata ripresa',
    'call.reason.declined': 'non ha accettato',
    'call.reason.no-answer': 'non ha risposto',

    'msg.title': 'Messaggio',
    'msg.context': '{tenant} · chiamata {call}',
    'msg.name': 'Nome del chiamante',
    'msg.number': 'Numero',
    'msg.for': 'Per',
    'msg.forOffice': 'Tutto lo studio',
    'msg.reason': 'Motivo',
    'msg.urgency': 'Urgenza',
    'msg.normal': 'Normale',
    'msg.urgent': 'Urgente',
    'msg.save': 'Salva messaggio',
    'msg.saving': 'Salvataggio…',
    'msg.saved': 'Messaggio salvato (n. {id})',
    'msg.failed': 'Messaggio non salvato: {error}',
    'msg.reasonRequired': 'Scrivi il motivo della chiamata.',
    'msg.close': 'Chiudi',
    'msg.discardConfirm': 'Il messaggio non è stato salvato. Scartarlo?',
    'msg.stale': 'Questo messaggio è della chiamata precedente e non è ancora salvato.',
    'msg.newForCall': 'Nuovo messaggio per la chiamata attuale',
    'msg.none': 'Il modulo messaggio appare durante e dopo una chiamata.',

    'recent.title': 'Ultime chiamate',
    'recent.empty': 'Nessuna chiamata recente',
    'recent.message': 'messaggio',
    'recent.loadFailed': 'Ultime chiamate non disponibili',

    'disp.answered': 'risposta',
    'disp.missed': 'persa',
    'disp.abandoned': 'abbandonata',
    'disp.voicemail': 'segreteria',
    'disp.transferred': 'trasferita',
    'disp.message': 'messaggio',
    'disp.busy': 'occupato',
    'disp.failed': 'fallita',
    'disp.blocked': 'bloccata',

    'person.status.available': 'disponibile',
    'person.status.busy': 'occupato',
    'person.status.meeting': 'in riunione',
    'person.status.dnd': 'non disturbare',
    'person.status.away': 'assente',
    'person.status.offline': 'non connesso',

    'error.generic': 'Errore: {error}',
    'error.network': 'Errore di rete',
    'error.forbidden': 'Operazione non consentita (sessione?)',
    'error.offline': 'Non connesso al server: riprova tra poco.',
    'error.answerTimeout': 'Il server non ha confermato la risposta.',
    'toast.close': 'Chiudi avviso',
    'lang.it': 'Italiano',
    'lang.en': 'English',
  },

  en: {
    'app.title': 'Centralino — Operator console',
    'app.brand': 'Centralino',
    'app.loading': 'Loading…',

    'login.title': 'Operator sign-in',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.failed': 'Sign-in failed.',
    'login.lockedMinutes': 'Too many attempts: try again in {minutes} minutes.',
    'login.network': 'Server unreachable. Try again.',
    'login.expired': 'Session expired: please sign in again.',

    'header.logout': 'Sign out',
    'header.language': 'Language',
    'header.status': 'Status',

    'status.available': 'Available',
    'status.paused': 'Paused',
    'status.wrap-up': 'Wrap-up',
    'status.busy': 'On a call',
    'status.unknown': '—',
    'status.wrapupLeft': 'Wrap-up · {time}',
    'status.reason.missed-calls': 'missed calls',
    'status.reason.missed': 'missed calls',
    'status.reason.logout': 'disconnected',
    'status.reason.disconnected': 'disconnected',

    'ws.connecting': 'Connecting…',
    'ws.connected': 'Connected',
    'ws.reconnecting': 'Reconnecting…',
    'ws.offline': 'Disconnected',

    'queues.title': 'Queues',
    'queues.empty': 'Nobody waiting',
    'queues.waitingCount': '{n} waiting',
    'queues.anonymous': 'Anonymous',

    'offers.title': 'Incoming calls',
    'offers.answer': 'Answer',
    'offers.answering': 'Connecting…',
    'offers.answerHint': 'Enter to answer',
    'offers.announce': 'Incoming call for {tenant}',
    'offers.titleBadge': '({n}) Incoming call',
    'offers.gone.caller-hangup': 'The caller hung up',
    'offers.gone.taken': 'Call taken by another operator',
    'offers.gone.timeout': 'Offer expired',
    'offers.gone.max-wait': 'Maximum wait exceeded',

    'idle.title': 'No calls',
    'idle.available': 'You are available: calls will appear here.',
    'idle.paused': 'You are paused: you will not receive calls.',
    'idle.wrapup': 'Wrap-up: calls resume when it ends.',

    'pop.tenant': 'Client',
    'pop.phrase': 'Answer with',
    'pop.caller': 'Caller',
    'pop.note': 'Note',
    'pop.called': 'Dialled number',
    'pop.waiting': 'Waiting for',
    'pop.instructions': 'Instructions',
    'pop.staff': 'People',
    'pop.noStaff': 'No people configured',
    'pop.unreachable': 'not reachable',
    'pop.history': 'Previous contacts',
    'pop.historyCalls': 'Calls',
    'pop.historyMessages': 'Messages',
    'pop.noHistory': 'No previous contacts',
    'pop.for': 'for {name}',
    'pop.forOffice': 'for the office',
    'pop.by': 'answered by {name}',
    'badge.vip': 'VIP',
    'badge.blocked': 'Blocked',
    'badge.anonymous': 'Anonymous',
    'badge.urgent': 'Urgent',

    'call.title': 'Call in progress',
    'call.endedTitle': 'Call ended',
    'call.state.connecting': 'Connecting…',
    'call.state.talking': 'Talking',
    'call.state.held': 'On hold (music)',
    'call.state.consult-ringing': 'Calling {person}…',
    'call.state.consult-talking': 'Consulting {person}',
    'call.state.ended': 'Ended',
    'call.reason': 'Reason: {reason}',
    'call.hangup': 'Hang up',
    'call.mute': 'Mute',
    'call.unmute': 'Unmute',
    'call.hold': 'Hold',
    'call.unhold': 'Resume',
    'call.keypad': 'Keypad',
    'call.transfer': 'Transfer to',
    'call.transferChoose': 'Choose a person…',
    'call.blind': 'Blind transfer',
    'call.warm': 'Warm transfer',
    'call.complete': 'Connect',
    'call.cancel': 'Take back',
    'call.dismiss': 'Close',
    'call.noAudio': 'The page was reloaded: this call’s audio is not connected to this page. The server keeps handling the caller.',
    'call.mediaFailed': 'Audio connection lost.',
    'call.micError': 'Microphone unavailable: {error}',
    'call.dtmfUnavailable': 'DTMF tones are not available on this connection.',
    'call.reason.transferred': 'transferred',
    'call.reason.caller-hangup': 'the caller hung up',
    'call.reason.operator-hangup': 'hung up by the operator',
    'call.reason.hangup': 'hung up',
    'call.reason.browser-gone': 'audio lost: the call went back to the queue',
    'call.reason.taken-back': 'caller taken back',
    'call.reason.declined': 'declined',
    'call.reason.no-answer': 'did not answer',

    'msg.title': 'Message',
    'msg.context': '{tenant} · call {call}',
    'msg.name': 'Caller name',
    'msg.number': 'Number',
    'msg.for': 'For',
    'msg.forOffice': 'The whole office',
    'msg.reason': 'Reason',
    'msg.urgency': 'Urgency',
    'msg.normal': 'Normal',
    'msg.urgent': 'Urgent',
    'msg.save': 'Save message',
    'msg.saving': 'Saving…',
    'msg.saved': 'Message saved (no. {id})',
    'msg.failed': 'Message not saved: {error}',
    'msg.reasonRequired': 'Write the reason for the call.',
    'msg.close': 'Close',
    'msg.discardConfirm': 'The message has not been saved. Discard it?',
    'msg.stale': 'This message belongs to the previous call and is not saved yet.',
    'msg.newForCall': 'New message for the current call',
    'msg.none': 'The message form appears during and after a call.',

    'recent.title': 'Recent calls',
    'recent.empty': 'No recent calls',
    'recent.message': 'message',
    'recent.loadFailed': 'Recent calls unavailable',

    'disp.answered': 'answered',
    'disp.missed': 'missed',
    'disp.abandoned': 'abandoned',
    'disp.voicemail': 'voicemail',
    'disp.transferred': 'transferred',
    'disp.message': 'message',
    'disp.busy': 'busy',
    'disp.failed': 'failed',
    'disp.blocked': 'blocked',

    'person.status.available': 'available',
    'person.status.busy': 'busy',
    'person.status.meeting': 'in a meeting',
    'person.status.dnd': 'do not disturb',
    'person.status.away': 'away',
    'person.status.offline': 'offline',

    'error.generic': 'Error: {error}',
    'error.network': 'Network error',
    'error.forbidden': 'Not allowed (session?)',
    'error.offline': 'Not connected to the server: try again shortly.',
    'error.answerTimeout': 'The server did not confirm the answer.',
    'toast.close': 'Dismiss notice',
    'lang.it': 'Italiano',
    'lang.en': 'English',
  },
};

export const languages = Object.keys(dict);
const STORAGE_KEY = 'centralino.lang';
let current = 'it';
let applied = false; // the static markup has not been translated yet
const listeners = new Set();

// normalize('en-GB') → 'en'; unknown languages → null.
function normalize(tag) {
  if (!tag) return null;
  const base = String(tag).toLowerCase().split(/[-_]/)[0];
  return dict[base] ? base : null;
}

// pickLanguage chooses, in order: the operator's explicit choice on this browser, the operator's
// configured language (from login/session/hello), the browser's language, Italian.
export function pickLanguage(operatorLanguage) {
  let stored = null;
  try { stored = localStorage.getItem(STORAGE_KEY); } catch { /* storage disabled */ }
  return normalize(stored) || normalize(operatorLanguage) || normalize(navigator.language) || 'it';
}

export function getLang() { return current; }

// setLang switches language; remember=true records an explicit choice from the switch.
export function setLang(lang, remember = false) {
  const l = normalize(lang) || 'it';
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, l); } catch { /* storage disabled */ }
  }
  if (l === current && applied) return;
  current = l;
  applied = true;
  document.documentElement.lang = l;
  applyI18n(document);
  document.title = t('app.title');
  listeners.forEach((fn) => fn(l));
}

export function onLangChange(fn) { listeners.add(fn); }

export function t(key, params) {
  let s = dict[current][key] ?? dict.it[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
  return s;
}

// has(key) lets callers translate server codes when a translation exists and show them raw otherwise.
export function has(key) { return key in dict[current]; }

export function applyI18n(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  root.querySelectorAll('[data-i18n-aria-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel)); });
}
