/* LINE 聊天模擬器（開發工具）：以 LINE 使用者的身分和機器人對話。
 * 1. Render：把機器人送出的訊息（Messaging API JSON）畫成 LINE 的樣子，含 Flex 訊息。
 * 2. Api：/dev/simulator/send 送事件、/dev/simulator/messages 取回覆。
 * 3. UI：模擬使用者、聊天紀錄、快速回覆、日期選擇器、狀態列。
 * 純 JavaScript（ES2020），不需建置步驟。 */
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

/* ───────────── 1. Render ───────────── */

const TEXT_PX = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
const IMAGE_PX = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 240, full: "100%" };
const SPACE_PX = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const RADIUS_PX = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const BORDER_PX = { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 };
const SECTION_PAD = { header: "20px", body: "20px", footer: "10px" };
const GRAVITY = { top: "flex-start", center: "center", bottom: "flex-end" };
const ALIGN = { start: "flex-start", center: "center", end: "flex-end" };

/** A Flex size: a keyword from the table, or a CSS length as given ("12px", "50%"). */
function size(value, table) {
  if (value == null) return "";
  const v = table[value];
  if (v === undefined) return String(value);
  return typeof v === "number" ? `${v}px` : v;
}

/** "20:13" -> 20 / 13 (1 when missing or malformed). */
function ratio(value) {
  const [w, h2] = String(value || "1:1").split(":").map(Number);
  return w > 0 && h2 > 0 ? w / h2 : 1;
}

/** Font properties shared by Flex text and span. */
function styleText(el, c) {
  const s = el.style;
  if (c.size) s.fontSize = size(c.size, TEXT_PX);
  if (c.weight === "bold") s.fontWeight = "700";
  if (c.color) s.color = c.color;
  if (c.style === "italic") s.fontStyle = "italic";
  if (c.decoration && c.decoration !== "none") s.textDecoration = c.decoration;
  return el;
}

const Render = {
  onAction: () => {},  // set by the UI: (action) => void

  tappable(el, action) {
    if (!action) return el;
    el.classList.add("tappable");
    el.addEventListener("click", (e) => { e.stopPropagation(); Render.onAction(action); });
    return el;
  },

  unsupported: (label = "[不支援的元件]") => h("span", "fx-unsupported", label),

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
        const el = Render.flex(m.contents || {});
        el.title = m.altText || "";
        return el;
      }
      case "template": return Render.template(m.template || {}, m.altText);
      default: return h("div", "bubble muted", `[不支援的訊息類型：${m.type}]${m.altText ? "\n" + m.altText : ""}`);
    }
  },

  flex(c) {
    if (c.type === "bubble") return Render.bubble(c);
    if (c.type === "carousel") {
      const row = h("div", "fx-carousel");
      (c.contents || []).forEach((b) => row.append(Render.bubble(b)));
      return row;
    }
    return Render.unsupported();
  },

  bubble(b) {
    const el = h("div", `fx-bubble fx-size-${b.size || "mega"}`);
    if (b.direction === "rtl") el.dir = "rtl";
    const styles = b.styles || {};
    let first = true;
    for (const part of ["header", "hero", "body", "footer"]) {
      if (!b[part]) continue;
      const st = styles[part] || {};
      const section = h("div", `fx-section fx-${part}`);
      if (st.backgroundColor) section.style.backgroundColor = st.backgroundColor;
      if (st.separator && !first) section.style.borderTop = `1px solid ${st.separatorColor || "#e5e5e5"}`;
      section.append(Render.component(b[part], "vertical", part));
      el.append(section);
      first = false;
    }
    return Render.tappable(el, b.action);
  },

  /** Any Flex component, sized for its parent box layout ("vertical", "horizontal", "baseline"). */
  component(c = {}, parent, section) {
    const draw = Render.components[c.type];
    const el = (draw && draw(c, parent, section)) || Render.unsupported();
    const s = el.style;
    if (!["separator", "spacer", "icon"].includes(c.type)) {
      const grow = c.flex ?? (parent === "vertical" && c.type !== "filler" ? 0 : 1);
      s.flex = grow > 0 ? (parent === "vertical" ? `${grow} 0 auto` : `${grow} 1 0`) : "0 0 auto";
    }
    if (c.gravity && parent !== "vertical") s.alignSelf = GRAVITY[c.gravity] || "";
    if (c.position === "absolute") s.position = "absolute";
    for (const [key, css] of [["offsetTop", "top"], ["offsetBottom", "bottom"], ["offsetStart", "insetInlineStart"], ["offsetEnd", "insetInlineEnd"]]) {
      if (c[key] == null) continue;
      s[css] = size(c[key], SPACE_PX);
      if (c.position !== "absolute") s.position = "relative";
    }
    if (c.type !== "button") Render.tappable(el, c.action);
    return el;
  },

  components: {
    box(c, parent, section) {
      const layout = c.layout || "vertical";
      const el = h("div", `fx-box fx-${layout}`);
      const s = el.style;
      if (SECTION_PAD[section]) s.padding = SECTION_PAD[section];
      if (c.paddingAll != null) s.padding = size(c.paddingAll, SPACE_PX);
      const sides = { paddingTop: "paddingTop", paddingBottom: "paddingBottom", paddingStart: "paddingInlineStart", paddingEnd: "paddingInlineEnd" };
      for (const [key, css] of Object.entries(sides)) if (c[key] != null) s[css] = size(c[key], SPACE_PX);
      if (c.backgroundColor) s.backgroundColor = c.backgroundColor;
      const bg = c.background;
      if (bg && bg.type === "linearGradient") {
        const mid = bg.centerColor ? `${bg.centerColor} ${bg.centerPosition || "50%"}, ` : "";
        s.backgroundImage = `linear-gradient(${bg.angle || "0deg"}, ${bg.startColor}, ${mid}${bg.endColor})`;
      }
      if (c.cornerRadius) s.borderRadius = size(c.cornerRadius, RADIUS_PX);
      if (c.borderWidth) s.border = `${size(c.borderWidth, BORDER_PX)} solid ${c.borderColor || "#000000"}`;
      for (const key of ["width", "height", "maxWidth", "maxHeight"]) if (c[key]) s[key] = c[key];
      if (c.justifyContent) s.justifyContent = c.justifyContent;
      if (c.alignItems) s.alignItems = c.alignItems;
      (c.contents || []).forEach((child, i) => {
        const el2 = Render.component(child, layout);
        const gap = child.margin ?? (i > 0 ? c.spacing : null);
        if (gap != null) el2.style[layout === "vertical" ? "marginTop" : "marginInlineStart"] = size(gap, SPACE_PX);
        el.append(el2);
      });
      return el;
    },

    text(c) {
      const el = styleText(h("div", "fx-text"), { size: "md", ...c });
      if (c.align) el.style.textAlign = c.align;
      if (c.lineSpacing) el.style.lineHeight = `calc(1.4em + ${c.lineSpacing})`;
      if (c.wrap) el.classList.add("wrap");
      if (c.maxLines) { el.classList.add("clamp"); el.style.webkitLineClamp = String(c.maxLines); }
      const spans = Array.isArray(c.contents) ? c.contents : [];
      if (spans.length) spans.forEach((span) => el.append(styleText(h("span", null, span.text ?? ""), span)));
      else el.textContent = c.text ?? "";
      return el;
    },

    image(c) {
      const wrap = h("div", "fx-image");
      wrap.style.justifyContent = ALIGN[c.align] || "center";
      const frame = h("div", "fx-img-frame");
      frame.style.width = size(c.size || "md", IMAGE_PX);
      frame.style.aspectRatio = String(ratio(c.aspectRatio));
      if (c.backgroundColor) frame.style.backgroundColor = c.backgroundColor;
      const picture = img(c.url);
      picture.style.objectFit = c.aspectMode === "cover" ? "cover" : "contain";
      picture.addEventListener("error", () => frame.classList.add("broken"));
      frame.append(picture);
      wrap.append(frame);
      return wrap;
    },

    button(c) {
      const style = c.style || "link";
      const btn = actionButton(c.action?.label, `fx-button fx-btn-${style} fx-h-${c.height || "md"}`, c.action);
      if (c.color) btn.style[style === "link" ? "color" : "backgroundColor"] = c.color;
      return btn;
    },

    separator(c, parent) {
      const el = h("div", `fx-separator ${parent === "vertical" ? "fx-sep-h" : "fx-sep-v"}`);
      if (c.color) el.style.borderColor = c.color;
      return el;
    },

    filler: () => h("div", "fx-filler"),

    spacer(c, parent) {
      const el = h("div", "fx-spacer");
      el.style[parent === "vertical" ? "height" : "width"] = size(c.size || "md", SPACE_PX);
      return el;
    },

    icon(c) {
      const el = img(c.url, "fx-icon");
      const px = size(c.size || "md", TEXT_PX);
      el.style.height = px;
      el.style.width = `calc(${px} * ${ratio(c.aspectRatio)})`;
      return el;
    },

    video: (c, parent) => (c.altContent ? Render.component(c.altContent, parent) : null),
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

/* ───────────── 2. Api ───────────── */

const Api = {
  async request(url, options) {
    const resp = await fetch(url, options);
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.message || `HTTP ${resp.status}`);
    return body;
  },
  /** One webhook event; resolves to {status, webhookEventId} (status = what /callback answered). */
  send(event) {
    return Api.request("/dev/simulator/send", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(event),
    });
  },
  /** Deliveries to the user with seq > after: [{seq, kind, messages}]. */
  async messages(userId, after) {
    const query = new URLSearchParams({ userId, after: String(after) });
    const body = await Api.request(`/dev/simulator/messages?${query}`);
    return (body.messages || []).sort((a, b) => a.seq - b.seq);
  },
};

/* ───────────── 3. UI ───────────── */

const $ = (id) => document.getElementById(id);
const USER_KEY = "lineSimulator.user";
const POLL_MS = 700;
const MAX_ITEMS = 300;
const STATE_LABEL = { new: "尚未加入", friend: "好友", blocked: "已封鎖" };

const Store = {
  get(key, fallback) { try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; } },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ } },
  remove(key) { try { localStorage.removeItem(key); } catch { /* private mode */ } },
};

function newUserId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "U" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const botName = new URLSearchParams(location.search).get("bot") || document.body.dataset.botName || "官方帳號";
let user = null;                  // {userId, displayName, state: "new" | "friend" | "blocked"}
let chat = { items: [], lastSeq: 0 };
let sendQueue = Promise.resolve();
let pollChain = Promise.resolve();
let pollsWaiting = 0;
let offline = false;
let pickerAction = null;
let stickToEnd = true;            // follow new content unless the person scrolled up to read

const chatKey = () => `lineSimulator.chat.${user.userId}`;
const saveUser = () => Store.set(USER_KEY, user);
const saveChat = () => Store.set(chatKey(), { items: chat.items.slice(-MAX_ITEMS), lastSeq: chat.lastSeq });
const clock = (ts) => new Date(ts).toLocaleTimeString("zh-TW", { hour: "numeric", minute: "2-digit" });

function setStatus(message, level = "error") {
  $("statusText").textContent = message || "";
  $("status").className = `status ${level}`;
  $("status").hidden = !message;
}

function nearBottom() {
  const el = $("chat");
  return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
}

function scrollToEnd() {
  $("chat").scrollTop = $("chat").scrollHeight;
}

function botRow(content, { first, time, title }) {
  const row = h("div", `row bot${first ? " first" : ""}`);
  const avatar = h("div", "avatar", first ? [...botName][0] : "");
  if (!first) avatar.classList.add("blank");
  const col = h("div", "col");
  if (first) col.append(h("div", "name", botName));
  const line = h("div", "line");
  line.append(content);
  if (time) line.append(h("span", "meta", time));
  col.append(line);
  row.append(avatar, col);
  if (title) row.dataset.kind = title;
  return row;
}

function drawItem(item, prev) {
  const chatEl = $("chat");
  if (item.type === "user") {
    const row = h("div", "row user");
    const line = h("div", "line");
    line.append(h("span", "meta", `已讀\n${clock(item.ts)}`), h("div", "bubble user-bubble", item.text));
    row.append(line);
    chatEl.append(row);
  } else if (item.type === "notice") {
    const row = h("div", "notice");
    row.append(h("span", null, item.text));
    chatEl.append(row);
  } else if (item.type === "bot") {
    item.messages.forEach((m, i) => {
      const first = i === 0 && prev?.type !== "bot";
      const time = i === item.messages.length - 1 ? clock(item.ts) : "";
      let content;
      try { content = Render.message(m); } catch (err) {
        console.error("render failed", m, err);
        content = h("div", "bubble muted", "[訊息無法顯示]");
      }
      chatEl.append(botRow(content, { first, time, title: `${item.kind} #${item.seq}` }));
    });
  }
  chatEl.querySelectorAll("img:not([data-watched])").forEach((img) => {
    img.dataset.watched = "1";
    img.addEventListener("load", () => { if (stickToEnd) scrollToEnd(); });
  });
}

function redraw() {
  $("chat").replaceChildren();
  const day = h("div", "notice");
  day.append(h("span", null, "今天"));
  $("chat").append(day);
  chat.items.forEach((item, i) => drawItem(item, chat.items[i - 1]));
  drawQuickReply();
  scrollToEnd();
}

function addItem(item) {
  const stick = stickToEnd || item.type === "user";
  const prev = chat.items[chat.items.length - 1];
  chat.items.push({ ts: Date.now(), ...item });
  saveChat();
  drawItem(chat.items[chat.items.length - 1], prev);
  drawQuickReply();
  if (stick) scrollToEnd();
}

/** LINE shows the quick replies of the newest message only while it is the last thing in the chat. */
function drawQuickReply() {
  const bar = $("quick");
  const last = chat.items[chat.items.length - 1];
  const message = last?.type === "bot" ? last.messages[last.messages.length - 1] : null;
  const items = message?.quickReply?.items || [];
  bar.replaceChildren();
  for (const item of items) {
    const pill = actionButton(item.action?.label, "pill", item.action);
    if (item.imageUrl) pill.prepend(img(item.imageUrl));
    bar.append(pill);
  }
  bar.hidden = items.length === 0 || user.state === "blocked";
  if (stickToEnd) scrollToEnd();
}

function showTyping(on) {
  $("chat").querySelector(".row.typing")?.remove();
  if (!on) return;
  const dots = h("div", "bubble dots");
  for (let i = 0; i < 3; i++) dots.append(h("i"));
  const row = botRow(dots, { first: false });
  row.classList.add("typing");
  $("chat").append(row);
  if (stickToEnd) scrollToEnd();
}

/** Send one event (in order; taps never overtake each other), then fetch what the bot answered. */
function send(event, echo) {
  $("quick").hidden = true;  // as in LINE, quick replies go away once the user answers
  if (echo) addItem({ type: "user", text: echo });
  const from = { userId: user.userId, displayName: user.displayName };
  sendQueue = sendQueue.then(async () => {
    showTyping(true);
    try {
      const result = await Api.send({ ...from, ...event });
      if (result.status !== 200) {
        setStatus(`⚠️ 機器人的 webhook 回應了 ${result.status}（事件 ${result.webhookEventId}），請查看伺服器日誌。`);
      } else if (!offline) {
        setStatus("");
      }
    } catch (err) {
      setStatus(`⚠️ 無法送出：${err.message}`);
    } finally {
      await poll();
      showTyping(false);
    }
  });
  return sendQueue;
}

const sendText = (text) => send({ kind: "text", text }, text);
const sendPostback = (data, displayText, params) => send({ kind: "postback", data, params }, displayText);

async function pollOnce() {
  const userId = user.userId;
  try {
    const deliveries = await Api.messages(userId, chat.lastSeq);
    if (userId !== user.userId) return;  // switched user meanwhile
    if (offline) { offline = false; setStatus(""); }
    for (const d of deliveries) {
      if (d.seq <= chat.lastSeq) continue;
      chat.lastSeq = d.seq;
      addItem({ type: "bot", seq: d.seq, kind: d.kind, messages: d.messages || [] });
    }
  } catch (err) {
    offline = true;
    setStatus(`⚠️ 連不上模擬器伺服器（${err.message}），持續重試中…`, "warn");
  }
}

function poll() {
  if (pollsWaiting > 1) return pollChain;  // one running and one queued is enough
  pollsWaiting += 1;
  pollChain = pollChain.then(pollOnce).finally(() => { pollsWaiting -= 1; });
  return pollChain;
}

/** The fake LINE server numbers deliveries from 1 again after a restart: start over with it. */
async function resync() {
  if (!chat.lastSeq) return;
  try {
    const all = await Api.messages(user.userId, 0);
    const newest = all.length ? all[all.length - 1].seq : 0;
    if (newest < chat.lastSeq) {
      chat.lastSeq = 0;
      addItem({ type: "notice", text: "模擬伺服器已重新啟動，以上為先前的對話" });
    }
  } catch { /* pollOnce reports connection problems */ }
}

function handleAction(action) {
  if (user.state === "blocked") { setStatus("您已封鎖此官方帳號，請先解除封鎖。", "warn"); return; }
  switch (action.type) {
    case "message": sendText(action.text ?? action.label ?? ""); break;
    case "postback": sendPostback(action.data, action.displayText ?? action.text); break;
    case "datetimepicker": openPicker(action); break;
    case "uri": window.open(action.uri, "_blank", "noopener"); break;
    case "clipboard":
      navigator.clipboard?.writeText(action.clipboardText || "");
      setStatus("已複製到剪貼簿", "info");
      break;
    default: setStatus(`模擬器不支援「${action.type || "未知"}」動作`, "warn");
  }
}

/* Date/time picker: LINE's native picker becomes a sheet with an <input>; 確定 sends the postback. */
const PICKER_TYPES = { date: "date", time: "time", datetime: "datetime-local" };

function openPicker(action) {
  const mode = PICKER_TYPES[action.mode] ? action.mode : "date";
  const input = $("pickerInput");
  pickerAction = { ...action, mode };
  input.type = PICKER_TYPES[mode];
  input.min = action.min || "";
  input.max = action.max || "";
  input.value = action.initial || "";
  $("pickerTitle").textContent = action.label || "選擇日期";
  $("pickerHint").hidden = true;
  $("picker").hidden = false;
  input.focus();
  try { input.showPicker(); } catch { /* not supported or not allowed: the field is still there */ }
}

function closePicker() {
  $("picker").hidden = true;
  pickerAction = null;
}

function confirmPicker() {
  const { value, min, max } = $("pickerInput");
  const hint = $("pickerHint");
  const problem = !value ? "請先選擇" : (min && value < min) || (max && value > max) ? `請選擇 ${min || "…"} 到 ${max || "…"} 之間` : "";
  if (problem) { hint.textContent = problem; hint.hidden = false; return; }
  const action = pickerAction;
  closePicker();
  sendPostback(action.data, null, { [action.mode]: value });
}

function drawUser() {
  $("userId").textContent = user.userId;
  $("displayName").value = user.displayName;
  $("userbarName").textContent = user.displayName;
  $("userbarState").textContent = STATE_LABEL[user.state];
  $("userbarState").dataset.state = user.state;
  const can = { follow: user.state === "new", block: user.state === "friend", unblock: user.state === "blocked", reset: true };
  document.querySelectorAll("[data-act]").forEach((b) => { b.disabled = !can[b.dataset.act]; });
  const blocked = user.state === "blocked";
  $("text").disabled = blocked;
  $("send").disabled = blocked;
  $("text").placeholder = blocked ? "已封鎖，解除封鎖後才能傳送訊息" : "輸入訊息";
  drawQuickReply();
}

function setState(state, notice) {
  user.state = state;
  saveUser();
  drawUser();
  if (notice) addItem({ type: "notice", text: notice });
}

const USER_ACTIONS = {
  follow() { setState("friend", `您已將 ${botName} 加入好友`); send({ kind: "follow" }); },
  block() { setState("blocked", `您已封鎖 ${botName}`); send({ kind: "unfollow" }); },
  unblock() { setState("friend", `您已解除封鎖 ${botName}`); send({ kind: "follow", unblocked: true }); },
  reset() {
    Store.remove(chatKey());
    startUser({ userId: newUserId(), displayName: user.displayName, state: "new" });
    addItem({ type: "notice", text: "已換成新的使用者，點「加入好友」開始對話" });
  },
};

function startUser(next) {
  user = next;
  saveUser();
  chat = Store.get(chatKey(), { items: [], lastSeq: 0 });
  setStatus("");
  drawUser();
  redraw();
  resync().then(poll);
}

function togglePanel(open = $("userPanel").hidden) {
  $("userPanel").hidden = !open;
  $("panelToggle").setAttribute("aria-expanded", String(open));
}

function init() {
  document.title = `${botName} - LINE 聊天模擬器`;
  $("botName").textContent = botName;
  Render.onAction = handleAction;

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim() || user.state === "blocked") return;
    $("text").value = "";
    sendText(text);
  });
  $("text").addEventListener("keydown", (e) => {  // Enter sends, except while an IME is composing
    if (e.key === "Enter" && (e.isComposing || e.keyCode === 229)) e.preventDefault();
  });
  let lastTop = 0;  // only scrolling up un-sticks: growing content (images loading) must not
  $("chat").addEventListener("scroll", (e) => {
    const top = e.target.scrollTop;
    stickToEnd = top < lastTop ? nearBottom() : stickToEnd || nearBottom();
    lastTop = top;
  }, { passive: true });
  $("panelToggle").addEventListener("click", () => togglePanel());
  $("userbar").addEventListener("click", () => togglePanel());
  $("chat").addEventListener("click", () => togglePanel(false));
  $("displayName").addEventListener("change", (e) => {
    user.displayName = e.target.value.trim() || "測試用戶";
    saveUser();
    drawUser();
  });
  document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", () => USER_ACTIONS[b.dataset.act]()));
  $("statusClose").addEventListener("click", () => setStatus(""));
  $("pickerOk").addEventListener("click", confirmPicker);
  $("pickerCancel").addEventListener("click", closePicker);
  $("pickerInput").addEventListener("keydown", (e) => { if (e.key === "Enter") confirmPicker(); });
  $("picker").addEventListener("click", (e) => { if (e.target === $("picker")) closePicker(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("picker").hidden) closePicker(); });

  const saved = Store.get(USER_KEY, null);
  if (saved && /^U[0-9a-f]{32}$/.test(saved.userId) && STATE_LABEL[saved.state]) {
    startUser(saved);
  } else {  // first visit: add the bot as a friend, as if the QR code on the counter was scanned
    startUser({ userId: newUserId(), displayName: "測試用戶", state: "new" });
    USER_ACTIONS.follow();
  }
  setInterval(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", init);
