/* LINE 聊天模擬器（開發工具）：以 LINE 使用者的身分和機器人對話。本檔是頁面本身：
 * 模擬使用者（加入好友、封鎖、解除封鎖、換新用戶、顯示名稱）、輸入框、點擊動作的處理、
 * 日期選擇器，以及啟動。其餘模組依 simulator.html 的載入順序：
 *   simulator-render.js    訊息繪製（文字、圖片、貼圖、範本…）與共用的 DOM 小工具
 *   simulator-flex.js      Flex 訊息繪製
 *   simulator-chat.js      聊天畫面與其狀態（使用者、紀錄、快速回覆、狀態列）
 *   simulator-transport.js 與機器人往來（送出事件、輪詢回覆）
 *   simulator.js           本檔
 *   simulator-richmenu.js  圖文選單
 * 純 JavaScript（ES2020）的一般 <script>，不需建置步驟；各檔以全域名稱互相使用。 */
"use strict";

const STATE_LABEL = { new: "尚未加入", friend: "好友", blocked: "已封鎖" };

function newUserId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "U" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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
let pickerAction = null;

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
  watchScroll();
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
