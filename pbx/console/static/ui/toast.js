// Unobtrusive notices in the bottom-right corner; they go away by themselves.
import { h } from '../util.js';
import { t } from '../i18n.js';

const MAX = 4;

export function toast(text, kind = 'info', ms = 6000) {
  const box = document.getElementById('toasts');
  if (!box || !text) return;
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('p', null, text),
    h('button', { type: 'button', 'aria-label': t('toast.close'), onclick: () => el.remove() }, '×'));
  box.append(el);
  while (box.children.length > MAX) box.firstElementChild.remove();
  setTimeout(() => el.remove(), ms);
}
