// Header bits: own status (switch + label with wrap-up countdown / pause reason) and the
// WebSocket indicator.
import { h, parseTime, tr } from '../util.js';
import { t } from '../i18n.js';

// renderStatus(st): st = {status, until, reason} as in the `status` message.
export function renderStatus(st) {
  const label = document.getElementById('status-label');
  const status = st?.status || '';
  label.dataset.status = status;
  document.getElementById('status-available').setAttribute('aria-pressed', String(status === 'available'));
  document.getElementById('status-paused').setAttribute('aria-pressed', String(status === 'paused'));

  const parts = [];
  if (status === 'wrap-up' && !Number.isNaN(parseTime(st.until))) {
    // The ticker keeps the countdown in the span up to date.
    parts.push(t('status.wrap-up'), ' · ', h('span', { dataset: { until: st.until } }, ''));
  } else {
    parts.push(status ? tr('status', status) : t('status.unknown'));
  }
  if (st?.reason) parts.push(' — ', tr('status.reason', st.reason));
  label.replaceChildren(...parts);
}

export function renderWsState(state) {
  const box = document.getElementById('ws-state');
  box.dataset.state = state;
  document.getElementById('ws-state-text').textContent = t(`ws.${state}`);
}
