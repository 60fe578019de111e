// Small DOM and formatting helpers shared by the UI parts. Everything coming from the server is
// inserted as text (never as HTML), so caller names and instructions cannot inject markup.
import { getLang, t, has } from './i18n.js';

// h('div', {class: 'x', dataset: {testid: 'y'}, onclick: fn}, child, 'text', [more]) builds an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'testid') el.dataset.testid = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendChildren(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

export function show(el, visible) { el.hidden = !visible; }

// Server clocks and ours may differ; app.js sets the offset when the server tells its time.
let clockOffsetMs = 0;
export function setServerNow(iso) {
  const ms = Date.parse(iso);
  if (!Number.isNaN(ms)) clockOffsetMs = ms - Date.now();
}
export function serverNow() { return Date.now() + clockOffsetMs; }

// duration(ms) → "m:ss" (or "h:mm:ss" past an hour); negative values count as 0.
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(total / 3600), mm = Math.floor((total % 3600) / 60), ss = total % 60;
  const p2 = (n) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${p2(mm)}:${p2(ss)}` : `${p2(mm)}:${p2(ss)}`;
}

// parseTime: milliseconds, or NaN for missing values and Go's zero time (year 1).
export function parseTime(iso) {
  const ms = Date.parse(iso);
  return ms > 946684800000 ? ms : NaN; // after 2000-01-01
}

export function elapsedSince(iso) {
  const ms = parseTime(iso);
  return Number.isNaN(ms) ? '' : duration(serverNow() - ms);
}

export function remainingUntil(iso) {
  const ms = parseTime(iso);
  return Number.isNaN(ms) ? '' : duration(ms - serverNow());
}

// timeLabel: "14:32" today, "27/11 14:32" (or "11/27 …" in English) on other days.
export function timeLabel(iso) {
  const ms = parseTime(iso);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms);
  const locale = getLang() === 'it' ? 'it-IT' : 'en-GB';
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString(locale, { day: '2-digit', month: '2-digit' })} ${time}`;
}

// formatNumber groups Italian E.164 numbers for reading aloud; other numbers are shown as given.
// The screen pop carries the server's own formatting (caller_display), which wins where present.
export function formatNumber(n) {
  if (!n) return '';
  const m = /^\+39(\d+)$/.exec(n);
  if (!m) return n;
  const d = m[1];
  let groups;
  if (d.startsWith('3') && d.length === 10) groups = [d.slice(0, 3), d.slice(3, 6), d.slice(6)];
  else if (/^0[26]/.test(d)) groups = [d.slice(0, 2), d.slice(2, 6), d.slice(6)];
  else if (d.startsWith('0')) groups = [d.slice(0, 3), d.slice(3, 6), d.slice(6)];
  else groups = [d];
  return '+39 ' + groups.filter(Boolean).join(' ');
}

// tr(prefix, code): translated server code when known, else the code itself (or '').
export function tr(prefix, code) {
  if (!code) return '';
  return has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code;
}

export function shortId(id) {
  return id && id.length > 8 ? id.slice(0, 8) : (id || '');
}
