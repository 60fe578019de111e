// Incoming-call cards (`offer` messages), longest-waiting caller first.
import { h } from '../util.js';
import { t } from '../i18n.js';
import { renderPop } from './pop.js';

// sortedOffers: the order of the cards; the first one is what Enter answers.
export function sortedOffers(offers) {
  const since = (o) => Date.parse(o.pop?.waiting_since) || Date.parse(o.expires) || 0;
  return [...offers.values()].sort((a, b) => since(a) - since(b));
}

// renderOffers(container, offers, {answering, canAnswer, onAnswer})
export function renderOffers(container, offers, { answering, canAnswer, onAnswer }) {
  const cards = sortedOffers(offers).map((o, i) => {
    const busy = answering === o.call;
    const button = h('button', {
      type: 'button',
      class: 'btn btn-primary btn-answer',
      testid: 'offer-answer',
      disabled: !canAnswer || !!answering,
      title: i === 0 ? t('offers.answerHint') : null,
      onclick: () => onAnswer(o.call),
    }, busy ? t('offers.answering') : t('offers.answer'));
    return h('article', {
      class: `offer-card${busy ? ' answering' : ''}`,
      testid: 'offer-card',
      dataset: { call: o.call },
      'aria-label': t('offers.announce', { tenant: o.pop?.tenant_name || o.pop?.tenant || '' }),
    }, renderPop(o.pop, { actions: button, showWaiting: true }));
  });
  container.replaceChildren(...cards);
}
