/* A campaign message as a member will see it: a phone with a LINE chat and the message's bubble
 * (text, image, Flex, or the coupon offer card the bot builds), and the Flex templates the composer
 * fills in. The Flex renderer draws the components the templates use (box, text, image, button,
 * separator): close enough to judge wording and layout, not a full Flex engine. */
'use strict';
(() => {
  const { el, t } = Admin;
  const LINE_GREEN = '#06C755';

  /** Flex templates: fields → a bubble (the Messaging API's own JSON, sent as it is). */
  const TEMPLATES = {
    promo: {
      fields: ['image', 'title', 'text', 'button', 'link'],
      build: (f) => ({
        type: 'bubble',
        ...(f.image ? { hero: { type: 'image', url: f.image, size: 'full', aspectRatio: '20:13', aspectMode: 'cover' } } : {}),
        body: { type: 'box', layout: 'vertical', spacing: 'md', contents: [
          { type: 'text', text: f.title || ' ', weight: 'bold', size: 'xl', wrap: true },
          { type: 'text', text: f.text || ' ', size: 'sm', color: '#666666', wrap: true }] },
        footer: { type: 'box', layout: 'vertical', contents: [
          { type: 'button', style: 'primary', color: LINE_GREEN, action: { type: 'uri', label: f.button || t('camp.flex.defaultButton'), uri: f.link || 'https://line.me' } }] },
      }),
    },
    news: {
      fields: ['title', 'text', 'button', 'link'],
      build: (f) => ({
        type: 'bubble',
        body: { type: 'box', layout: 'vertical', spacing: 'md', contents: [
          { type: 'text', text: t('camp.flex.newsBadge'), size: 'xs', color: LINE_GREEN, weight: 'bold' },
          { type: 'text', text: f.title || ' ', weight: 'bold', size: 'lg', wrap: true },
          { type: 'separator' },
          { type: 'text', text: f.text || ' ', size: 'sm', color: '#555555', wrap: true }] },
        footer: { type: 'box', layout: 'vertical', contents: [
          { type: 'button', style: 'link', action: { type: 'uri', label: f.button || t('camp.flex.defaultButton'), uri: f.link || 'https://line.me' } }] },
      }),
    },
  };

  function flexNode(c) {
    if (!c) return null;
    switch (c.type) {
      case 'box': return el('div', { style: `display:flex;flex-direction:${c.layout === 'horizontal' ? 'row' : 'column'};gap:${c.spacing === 'md' ? 8 : 4}px` }, (c.contents || []).map(flexNode));
      case 'text': return el('div', { class: c.size === 'xl' || c.size === 'lg' ? 'ftitle' : '', text: c.text,
        style: `color:${c.color || '#111'};${c.weight === 'bold' ? 'font-weight:700;' : ''}${c.size === 'xs' ? 'font-size:11px;' : ''}white-space:pre-wrap` });
      case 'image': return el('img', { src: c.url, alt: '' });
      case 'separator': return el('div', { class: 'fsep' });
      case 'button': return el('div', { class: `fbtn${c.style === 'link' ? ' link' : ''}`, style: c.color && c.style !== 'link' ? `background:${c.color}` : '', text: c.action && c.action.label });
      default: return null;
    }
  }

  function flexBubble(bubble) {
    return el('div', { class: 'flex' },
      bubble.hero ? el('div', { class: 'hero' }, flexNode(bubble.hero)) : null,
      bubble.body ? el('div', { class: 'fbody' }, flexNode(bubble.body)) : null,
      bubble.footer ? el('div', { class: 'ffoot' }, flexNode(bubble.footer)) : null);
  }

  /** The bubble for a campaign's kind and content (as stored, or as being composed). */
  function messageBubble(kind, content) {
    if (kind === 'text') return el('div', { class: 'bubble', text: content.text || t('camp.preview.empty') });
    if (kind === 'image') {
      return content.url ? el('div', { class: 'bubble img' }, el('img', { src: content.url, alt: t('camp.kind.image') }))
        : el('div', { class: 'bubble muted', text: t('camp.preview.noImage') });
    }
    if (kind === 'flex') return content.contents ? flexBubble(content.contents) : el('div', { class: 'bubble', text: '…' });
    return flexBubble(TEMPLATES.offer(content));
  }
  TEMPLATES.offer = (c) => ({ // handlers/offers.py builds the same card around the claim button
    type: 'bubble',
    body: { type: 'box', layout: 'vertical', spacing: 'md', contents: [
      { type: 'text', text: c.title || t('camp.offer.defaultTitle'), weight: 'bold', size: 'lg', color: '#6F4E37', wrap: true },
      { type: 'text', text: c.text || t('camp.offer.defaultText'), size: 'sm', color: '#555555', wrap: true }] },
    footer: { type: 'box', layout: 'vertical', contents: [{ type: 'button', style: 'primary', color: '#6F4E37', action: { label: t('camp.offer.claim') } }] },
  });

  /** A phone with the chat: the brand's avatar and name (as members see it, from the lookups), the bubble and the time. */
  function phone(kind, content, brand = ((Admin.state.lookups || {}).brand || {}).name || '') {
    return el('div', { class: 'phone', role: 'img', 'aria-label': t('camp.preview.title') },
      el('div', { class: 'topbar' }, el('span', { class: 'dot', text: brand.slice(0, 1) }), brand),
      el('div', { class: 'chat', id: 'chatPreview' },
        el('div', { class: 'msg' }, el('span', { class: 'avatar', text: brand.slice(0, 1) }), messageBubble(kind, content),
          el('span', { class: 'time', text: new Date().toLocaleTimeString(I18N.lang === 'en' ? 'en-US' : 'zh-TW', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Taipei' }) }))));
  }

  Admin.bubble = { TEMPLATES, phone, messageBubble };
})();
