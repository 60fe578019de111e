// The login form. onLoggedIn(session) receives the server's login answer.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { byTestId } from '../util.js';

export function setupLogin(onLoggedIn) {
  const form = document.getElementById('login-form');
  const user = byTestId('login-username');
  const pass = byTestId('login-password');
  const err = byTestId('login-error');
  const submit = byTestId('login-submit');

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const session = await api.login(user.value.trim(), pass.value);
      pass.value = '';
      onLoggedIn(session);
    } catch (e) {
      showError(loginErrorText(e));
      pass.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });

  function showError(text) {
    err.textContent = text;
    err.hidden = false;
  }

  return {
    // show(message?) displays the form, optionally with a notice (e.g. session expired).
    show(message) {
      document.getElementById('login-view').hidden = false;
      if (message) showError(message); else err.hidden = true;
      (user.value ? pass : user).focus();
    },
    hide() { document.getElementById('login-view').hidden = true; err.hidden = true; },
  };
}

// The server's own text wins (it says e.g. how many minutes a lock-out lasts); ours is a fallback.
function loginErrorText(e) {
  if (e.status === 0) return t('login.network');
  if (e.message) return e.message;
  if (e.status === 429) return t('login.lockedMinutes', { minutes: Math.max(1, Math.ceil((e.retryAfter || 60) / 60)) });
  return t('login.failed');
}
