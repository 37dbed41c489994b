/* LINE 聊天模擬器：Flex 訊息繪製。bubble、carousel 與其元件（box、text、span、image、button、
 * separator、filler、spacer、icon、video）依 LINE 的尺寸表與 flex 規則畫成 CSS flexbox。
 * 提供：Flex。使用 simulator-render.js 的 h、img、actionButton、Render.tappable、Render.unsupported。 */
"use strict";

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

const Flex = {
  /** A Flex message's contents: a bubble or a carousel of bubbles. */
  container(c) {
    if (c.type === "bubble") return Flex.bubble(c);
    if (c.type === "carousel") {
      const row = h("div", "fx-carousel");
      (c.contents || []).forEach((b) => row.append(Flex.bubble(b)));
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
      section.append(Flex.component(b[part], "vertical", part));
      el.append(section);
      first = false;
    }
    return Render.tappable(el, b.action);
  },

  /** Any Flex component, sized for its parent box layout ("vertical", "horizontal", "baseline"). */
  component(c = {}, parent, section) {
    const draw = Flex.components[c.type];
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

  /** One drawing function per component type: (component, parent layout, bubble section) -> element. */
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
      // As in LINE, a width holds in a horizontal box too, where the flex share (flex 1, basis 0)
      // would otherwise stretch it: the stamp card's 40px round stamps must stay round.
      if (c.width && !c.maxWidth) s.maxWidth = c.width;
      if (c.justifyContent) s.justifyContent = c.justifyContent;
      if (c.alignItems) s.alignItems = c.alignItems;
      (c.contents || []).forEach((child, i) => {
        const el2 = Flex.component(child, layout);
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

    video: (c, parent) => (c.altContent ? Flex.component(c.altContent, parent) : null),
  },
};
