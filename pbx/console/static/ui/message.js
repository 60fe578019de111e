// The message form ("take a message"), tied to one call: prefilled from its screen pop, saved with
// POST /console/api/messages. What the operator typed is never thrown away by the page: a failed
// save keeps it, and a new call does not replace an unsaved message (a notice offers to).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h } from '../util.js';
import { personName } from './pop.js';

export class MessageForm {
  // onSaved(id, call) runs after a successful save.
  constructor({ onSaved }) {
    const $ = (id) => document.getElementById(id);
    this.el = {
      form: $('msg-form'), none: $('msg-none'), context: $('msg-context'), stale: $('msg-stale'),
      newBtn: $('msg-new'), name: $('msg-name'), number: $('msg-number'), for: $('msg-for'),
      reason: $('msg-reason'), urgency: $('msg-urgency'), error: $('msg-error'), saved: $('msg-saved'),
      save: $('msg-save'), close: $('msg-close'),
    };
    this.onSaved = onSaved;
    this.ctx = null;     // {call, tenant, tenantName, pop}
    this.pending = null; // a newer call waiting while an unsaved message is kept
    this.saving = false;

    this.el.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.save(); });
    this.el.newBtn.addEventListener('click', () => {
      if (this.pending && this.confirmDiscard()) this.load(this.pending);
    });
    this.el.close.addEventListener('click', () => {
      if (this.confirmDiscard()) this.clear();
    });
  }

  // dirty: there is text the operator wrote that has not been saved.
  get dirty() { return this.ctx !== null && this.el.reason.value.trim() !== ''; }

  confirmDiscard() { return !this.dirty || window.confirm(t('msg.discardConfirm')); }

  // offerCall is called when a call is answered (or restored): prefill for it unless the
  // operator is in the middle of a message for another call.
  offerCall(call, pop) {
    const ctx = { call, tenant: pop?.tenant || '', tenantName: pop?.tenant_name || pop?.tenant || '', pop: pop || {} };
    if (this.ctx && this.ctx.call === call) { // same call, maybe a fresher pop
      this.ctx.pop = ctx.pop;
      this.renderFor();
      return;
    }
    if (this.dirty) {
      this.pending = ctx;
      this.el.stale.hidden = false;
      return;
    }
    this.load(ctx);
  }

  load(ctx) {
    const e = this.el;
    this.ctx = ctx;
    this.pending = null;
    e.stale.hidden = true;
    e.error.hidden = true;
    e.saved.hidden = true;
    e.name.value = ctx.pop.caller_name || '';
    e.number.value = ctx.pop.anonymous ? '' : (ctx.pop.caller || '');
    e.reason.value = '';
    e.urgency.value = 'normal';
    this.renderFor();
    e.for.value = '';
    this.render();
  }

  clear() {
    this.ctx = null;
    this.pending = null;
    this.el.reason.value = '';
    this.render();
  }

  // render updates the texts that depend on the language and the context.
  render() {
    const e = this.el;
    e.form.hidden = !this.ctx;
    e.none.hidden = !!this.ctx;
    if (!this.ctx) return;
    e.context.textContent = t('msg.context', { tenant: this.ctx.tenantName, call: this.ctx.call.slice(0, 8) });
    this.renderFor();
    if (!this.saving) e.save.textContent = t('msg.save');
    if (!e.saved.hidden) e.saved.textContent = t('msg.saved', { id: e.saved.dataset.id });
  }

  renderFor() {
    const sel = this.el.for;
    const keep = sel.value;
    const people = this.ctx?.pop?.people || [];
    sel.replaceChildren(
      h('option', { value: '' }, t('msg.forOffice')),
      ...people.map((p) => h('option', { value: p.id }, personName(this.ctx.pop, p.id))));
    sel.value = people.some((p) => p.id === keep) ? keep : '';
  }

  async save() {
    const e = this.el;
    if (!this.ctx || this.saving) return;
    e.error.hidden = true;
    e.saved.hidden = true;
    if (!e.reason.value.trim()) {
      this.showError(t('msg.reasonRequired'));
      e.reason.focus();
      return;
    }
    const body = {
      call: this.ctx.call,
      tenant: this.ctx.tenant,
      for: e.for.value,
      caller_name: e.name.value.trim(),
      caller_number: e.number.value.trim(),
      reason: e.reason.value.trim(),
      urgency: e.urgency.value,
    };
    this.saving = true;
    e.save.disabled = true;
    e.save.textContent = t('msg.saving');
    try {
      const res = await api.saveMessage(body);
      const id = res?.id ?? '';
      // Keep name/number/recipient (a second message for someone else is common); clear the text so
      // a second click cannot store the same message twice.
      e.reason.value = '';
      e.urgency.value = 'normal';
      this.showSaved(id);
      this.onSaved(id, body.call);
      if (this.pending) this.el.stale.hidden = false;
    } catch (err) {
      const reason = err.status === 0 ? t('error.network') : (err.message || `HTTP ${err.status}`);
      this.showError(t('msg.failed', { error: reason }));
    } finally {
      this.saving = false;
      e.save.disabled = false;
      e.save.textContent = t('msg.save');
    }
  }

  // showSaved is also used for the WebSocket's `message_saved` (same id: no change).
  showSaved(id) {
    this.el.saved.dataset.id = id;
    this.el.saved.textContent = t('msg.saved', { id });
    this.el.saved.hidden = false;
  }

  showError(text) {
    this.el.error.textContent = text;
    this.el.error.hidden = false;
  }
}
