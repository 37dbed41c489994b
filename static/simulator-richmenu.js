/* LINE 聊天模擬器：圖文選單（rich menu）。
 * 顯示模擬使用者目前的圖文選單（個人連結的選單，否則為預設選單），和 LINE 一樣：
 * 點圖片時依 areas 的 bounds 找出被點的區塊並執行它的動作；聊天列文字（chatBarText）可收合選單。
 * richmenuswitch：切換到 alias 指向的選單，並送出 postback（params.newRichMenuAliasId、params.status）。
 * 使用 simulator-chat.js 的 $、user，simulator-transport.js 的 Api、send，simulator.js 的 handleAction
 * （本檔最後載入）。 */
"use strict";

const RichMenu = {
  userId: null,
  baseId: undefined,   // the menu LINE would show (linked or default); a change replaces a switched tab
  current: null,       // {richMenuId, menu, imageUrl, aliases}
  open: true,
  busy: false,
  again: false,        // asked again while a request was running

  /** Ask which menu the user has now; show it when it changed (a new link, or another user). */
  async refresh() {
    if (!user) return;
    if (RichMenu.busy) { RichMenu.again = true; return; }
    const userId = user.userId;
    RichMenu.busy = true;
    try {
      const body = await Api.richMenu({ userId });
      if (userId !== user.userId) return;
      if (userId !== RichMenu.userId || body.richMenuId !== RichMenu.baseId) {
        RichMenu.userId = userId;
        RichMenu.baseId = body.richMenuId;
        RichMenu.show(body.richMenuId ? body : null);
      }
    } catch { /* the page's own poll reports a server that is down */ } finally {
      RichMenu.busy = false;
      RichMenu.draw();
      if (RichMenu.again) { RichMenu.again = false; RichMenu.refresh(); }
    }
  },

  show(menu) {
    RichMenu.current = menu;
    const image = $("richmenuImage");
    if (!menu) { image.removeAttribute("src"); RichMenu.draw(); return; }
    image.src = menu.imageUrl;
    image.alt = `圖文選單：${(menu.menu.areas || []).map((a) => a.action?.label).filter(Boolean).join("、")}`;
    image.style.aspectRatio = `${menu.menu.size.width} / ${menu.menu.size.height}`;
    const section = $("richmenu");
    section.dataset.richMenuId = menu.richMenuId;
    section.dataset.alias = (menu.aliases || [])[0] || "";
    $("richmenuBarText").textContent = menu.menu.chatBarText || "選單";
    RichMenu.open = menu.menu.selected !== false;
    RichMenu.draw();
  },

  draw() {
    const section = $("richmenu");
    section.hidden = !RichMenu.current || user?.state === "blocked";
    $("richmenuPanel").hidden = !RichMenu.open;
    $("richmenuBar").setAttribute("aria-expanded", String(RichMenu.open));
  },

  /** The area under a click, in the menu's own coordinates (the image is scaled to the phone). */
  areaAt(event) {
    const image = event.currentTarget;
    const { width, height } = RichMenu.current.menu.size;
    const x = (event.offsetX / image.clientWidth) * width;
    const y = (event.offsetY / image.clientHeight) * height;
    return (RichMenu.current.menu.areas || []).find(({ bounds: b }) =>
      x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height);
  },

  flash(bounds) {
    const { width, height } = RichMenu.current.menu.size;
    const mark = document.createElement("div");
    mark.className = "rm-flash";
    Object.assign(mark.style, {
      left: `${(bounds.x / width) * 100}%`, top: `${(bounds.y / height) * 100}%`,
      width: `${(bounds.width / width) * 100}%`, height: `${(bounds.height / height) * 100}%`,
    });
    $("richmenuPanel").append(mark);
    setTimeout(() => mark.remove(), 350);
  },

  onClick(event) {
    if (!RichMenu.current) return;
    const area = RichMenu.areaAt(event);
    if (!area) return;
    RichMenu.flash(area.bounds);
    const action = area.action || {};
    if (action.type === "richmenuswitch") RichMenu.switchTo(action);
    else handleAction(action);
  },

  /** As LINE: switch the menu on the phone, then tell the bot with a postback (no chat bubble). */
  async switchTo(action) {
    if (user.state === "blocked") { handleAction(action); return; }
    let status = "SUCCESS";
    try {
      const body = await Api.richMenu({ aliasId: action.richMenuAliasId });
      if (body.richMenuId) RichMenu.show(body);
      else status = "RICHMENU_ALIAS_ID_NOTFOUND";
    } catch {
      status = "FAILED";
    }
    send({ kind: "postback", data: action.data, params: { newRichMenuAliasId: action.richMenuAliasId, status } });
  },

  onMove(event) {
    if (!RichMenu.current) return;
    const area = RichMenu.areaAt(event);
    event.currentTarget.title = area?.action?.label || "";
    event.currentTarget.style.cursor = area ? "pointer" : "default";
  },

  init() {
    $("richmenuImage").addEventListener("click", RichMenu.onClick);
    $("richmenuImage").addEventListener("mousemove", RichMenu.onMove);
    $("richmenuBar").addEventListener("click", () => { RichMenu.open = !RichMenu.open; RichMenu.draw(); });
    Api.sent.push(RichMenu.refresh);  // every event may change the menu (joining links the member menu)
    RichMenu.refresh();
    setInterval(RichMenu.refresh, 2000);  // another user, or a link made elsewhere (a tier upgrade)
  },
};

document.addEventListener("DOMContentLoaded", RichMenu.init);
