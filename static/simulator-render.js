/* LINE 聊天模擬器：訊息繪製。把機器人送出的一則訊息（Messaging API JSON）畫成 LINE 的樣子：
 * 文字、貼圖、圖片、影音、位置、範本（template）；Flex 訊息交給 simulator-flex.js。
 * 提供：h、img、actionButton（各模組共用的 DOM 小工具）、Render。
 * 點擊任何動作都交給 Render.onAction（由 simulator.js 設定）；本檔不碰頁面狀態。 */
"use strict";

function h(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text != null) el.textContent = text;
  return el;
}

function img(src, cls) {
  const el = h("img", cls);
  el.src = src || "";
  el.alt = "";
  return el;
}

/** A button that runs a LINE action (message, postback, datetimepicker, uri, …) when tapped. */
function actionButton(label, cls, action) {
  const el = h("button", cls, label ?? "");
  el.type = "button";
  if (action) el.addEventListener("click", (e) => { e.stopPropagation(); Render.onAction(action); });
  else el.disabled = true;
  return el;
}

const Render = {
  onAction: () => {},  // set by the page: (action) => void

  tappable(el, action) {
    if (!action) return el;
    el.classList.add("tappable");
    el.addEventListener("click", (e) => { e.stopPropagation(); Render.onAction(action); });
    return el;
  },

  unsupported: () => h("span", "fx-unsupported", "[不支援的元件]"),

  /** One message object as the bot sent it -> an element. */
  message(m) {
    switch (m.type) {
      case "text": return h("div", "bubble", m.text);
      case "textV2": return h("div", "bubble", (m.text || "").replace(/\{(\w+)\}/g, (all, key) => {
        const sub = (m.substitution || {})[key];
        if (!sub) return all;
        return sub.type === "mention" ? (sub.mentionee?.type === "all" ? "@All" : "@使用者") : "😀";
      }));
      case "image": return Render.tappable(img(m.previewImageUrl, "msg-image"), { type: "uri", uri: m.originalContentUrl });
      case "sticker": {
        const el = h("div", "sticker", "🧸");
        el.append(h("small", null, `貼圖 ${m.packageId}/${m.stickerId}`));
        return el;
      }
      case "video": case "audio": {
        const el = h(m.type, "msg-media");
        el.controls = true;
        el.src = m.originalContentUrl;
        if (m.previewImageUrl) el.poster = m.previewImageUrl;
        return el;
      }
      case "location": return h("div", "bubble", `📍 ${m.title || "位置"}\n${m.address || ""}`);
      case "flex": {
        const el = Flex.container(m.contents || {});
        el.title = m.altText || "";
        return el;
      }
      case "template": return Render.template(m.template || {}, m.altText);
      default: return h("div", "bubble muted", `[不支援的訊息類型：${m.type}]${m.altText ? "\n" + m.altText : ""}`);
    }
  },

  /** Template messages (buttons, confirm, carousel, image_carousel) as LINE-like cards. */
  template(t, alt) {
    const column = (col) => {
      const card = h("div", "tpl-card");
      const thumb = col.thumbnailImageUrl || col.imageUrl;
      if (thumb) {
        const pic = card.appendChild(img(thumb, "tpl-thumb"));
        pic.style.aspectRatio = t.imageAspectRatio === "square" || t.type === "image_carousel" ? "1" : "1.51";
        pic.style.objectFit = t.imageSize === "contain" ? "contain" : "cover";
        if (col.imageBackgroundColor) pic.style.backgroundColor = col.imageBackgroundColor;
      }
      const body = Render.tappable(h("div", "tpl-body"), col.defaultAction);
      if (col.title) body.append(h("div", "tpl-title", col.title));
      if (col.text) body.append(h("div", "tpl-text", col.text));
      if (body.childNodes.length) card.append(body);
      const actions = col.actions || (col.action ? [col.action] : []);
      const row = h("div", `tpl-actions${t.type === "confirm" ? " confirm" : ""}`);
      actions.forEach((action) => row.append(actionButton(action.label, "tpl-action", action)));
      card.append(row);
      return card;
    };
    let el;
    if (t.type === "carousel" || t.type === "image_carousel") {
      el = h("div", "fx-carousel");
      (t.columns || []).forEach((col) => el.append(column(col)));
    } else if (t.type === "buttons" || t.type === "confirm") {
      el = column(t);
    } else {
      el = h("div", "bubble muted", `[不支援的範本：${t.type}]`);
    }
    el.title = alt || "";
    return el;
  },
};
