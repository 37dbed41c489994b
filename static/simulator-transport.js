/* LINE 聊天模擬器：與機器人往來。Api 是模擬器後端的三個端點：/dev/simulator/send 送出一個
 * webhook 事件（經真正的 /callback）、/dev/simulator/messages 從假 LINE 伺服器取回覆、
 * /dev/simulator/richmenu 取圖文選單。其上：事件依序送出（點擊不會互相超車），送完立即輪詢，
 * 另每 POLL_MS 輪詢一次；假伺服器重新啟動（序號歸零）時重新對齊。
 * 提供：Api、POLL_MS、send、sendText、sendPostback、poll、resync。
 * 使用 simulator-chat.js 的 user、chat、addItem、setStatus、showTyping。 */
"use strict";

const POLL_MS = 700;

const Api = {
  sent: [],  // run after every event sent, whatever came back (the rich menu asks for the user's menu again)

  async request(url, options) {
    const resp = await fetch(url, options);
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.message || `HTTP ${resp.status}`);
    return body;
  },
  /** One webhook event; resolves to {status, webhookEventId} (status = what /callback answered). */
  async send(event) {
    try {
      return await Api.request("/dev/simulator/send", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(event),
      });
    } finally {
      Api.sent.forEach((callback) => callback());
    }
  },
  /** Deliveries to the user with seq > after: [{seq, kind, messages}]. */
  async messages(userId, after) {
    const query = new URLSearchParams({ userId, after: String(after) });
    const body = await Api.request(`/dev/simulator/messages?${query}`);
    return (body.messages || []).sort((a, b) => a.seq - b.seq);
  },
  /** {userId}: the menu the user sees (linked, else the default); {aliasId}: the menu behind an alias. */
  async richMenu(query) {
    const resp = await fetch(`/dev/simulator/richmenu?${new URLSearchParams(query)}`);
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    return resp.json();
  },
};

let sendQueue = Promise.resolve();
let pollChain = Promise.resolve();
let pollsWaiting = 0;
let offline = false;

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
