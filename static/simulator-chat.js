/* LINE 聊天模擬器：聊天畫面與其狀態。誰在聊天（user）、聊天紀錄（chat，存在 localStorage）、
 * 把紀錄畫成 LINE 的對話列、快速回覆列、輸入中的點點、狀態列，以及捲動跟隨。
 * 提供：$、Store、USER_KEY、botName、user、chat、chatKey、saveUser、setStatus、redraw、addItem、
 * drawQuickReply、showTyping、watchScroll。使用 simulator-render.js 的 h、img、actionButton、Render。 */
"use strict";

const $ = (id) => document.getElementById(id);
const USER_KEY = "lineSimulator.user";
const MAX_ITEMS = 300;

const Store = {
  get(key, fallback) { try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; } },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ } },
  remove(key) { try { localStorage.removeItem(key); } catch { /* private mode */ } },
};

const botName = new URLSearchParams(location.search).get("bot") || document.body.dataset.botName || "官方帳號";
let user = null;                  // {userId, displayName, state: "new" | "friend" | "blocked"}
let chat = { items: [], lastSeq: 0 };
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

/** Only scrolling up un-sticks: growing content (images loading) must not. */
function watchScroll() {
  let lastTop = 0;
  $("chat").addEventListener("scroll", (e) => {
    const top = e.target.scrollTop;
    stickToEnd = top < lastTop ? nearBottom() : stickToEnd || nearBottom();
    lastTop = top;
  }, { passive: true });
}

function botRow(content, { first, time, kind }) {
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
  if (kind) row.dataset.kind = kind;
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
      chatEl.append(botRow(content, { first, time, kind: `${item.kind} #${item.seq}` }));
    });
  }
  chatEl.querySelectorAll("img:not([data-watched])").forEach((picture) => {
    picture.dataset.watched = "1";
    picture.addEventListener("load", () => { if (stickToEnd) scrollToEnd(); });
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
