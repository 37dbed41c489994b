/* 門市收銀：本次消費的商品明細（選填）。每列：商品代碼（可從商品目錄挑選，帶入單價）、數量、單價；
 * 合計可一鍵填入消費金額。送出集點時一起送出 items（明細合計需與消費金額相符，誤差見 ITEMS_TOTAL_TOLERANCE）。
 * Builds on window.Cashier (cashier.js): GET /api/v1/products, the items of POST /api/v1/awards. */
'use strict';
(() => {
  const C = window.Cashier;
  const { $, el } = C;
  const PRICE = /^\d{1,8}(\.\d{1,2})?$/;
  let products = new Map(); // sku → {name, price}

  Object.assign(C.MESSAGES, {
    items_total_mismatch: (d) => `商品明細合計 NT$${d.items_total ?? '?'} 與消費金額 NT$${d.amount ?? '?'} 不符` +
      `（差 NT$${d.difference ?? '?'}，最多可差 NT$${d.tolerance ?? '?'}）；請修正明細或按「填入合計」`,
    invalid_items: (d) => `商品明細第 ${(d.index ?? 0) + 1} 列不正確，請檢查代碼、數量與單價`,
    receipt_already_awarded: '這筆交易編號已經用於其他會員、不同金額或不同商品的集點，請按「下一位」重新開始',
  });

  async function loadProducts() {
    try {
      const { data } = await C.api('/api/v1/products');
      products = new Map(data.products.map((p) => [p.sku, p]));
      $('productList').replaceChildren(...data.products.map((p) => el('option', { value: p.sku, label: `${p.name}${p.price ? ` NT$${p.price}` : ''}` })));
    } catch (e) { /* the catalogue only helps: SKUs can be typed */ }
  }

  function addRow() {
    const sku = el('input', { className: 'item-sku', placeholder: '商品代碼', maxLength: 64, autocomplete: 'off' });
    sku.setAttribute('list', 'productList');
    sku.setAttribute('aria-label', '商品代碼');
    const qty = el('input', { className: 'item-qty', value: '1', inputMode: 'numeric', maxLength: 4 });
    qty.setAttribute('aria-label', '數量');
    const price = el('input', { className: 'item-price', placeholder: '單價', inputMode: 'decimal', maxLength: 11 });
    price.setAttribute('aria-label', '單價');
    const name = el('small', { className: 'item-name' });
    sku.addEventListener('change', () => {
      const p = products.get(sku.value.trim());
      name.textContent = p ? p.name : '';
      if (p && p.price && !price.value) price.value = p.price;
      showTotal();
    });
    for (const input of [qty, price]) input.addEventListener('input', showTotal);
    const row = el('li', { className: 'item-row' }, sku, el('span', { textContent: '×', ariaHidden: 'true' }), qty, price,
      el('button', { type: 'button', className: 'secondary item-remove', textContent: '刪除', onclick: () => { row.remove(); showTotal(); } }), name);
    $('itemRows').append(row);
    sku.focus();
  }

  /** The rows as the API takes them; null: none filled; a string: what is wrong. */
  function rows() {
    const out = [];
    for (const [i, row] of [...$('itemRows').children].entries()) {
      const sku = row.querySelector('.item-sku').value.trim();
      const qty = row.querySelector('.item-qty').value.trim();
      const price = row.querySelector('.item-price').value.trim().replace(/,/g, '');
      if (!sku && !price) continue;
      if (!sku || !/^\d{1,4}$/.test(qty) || Number(qty) < 1 || !PRICE.test(price)) return `商品明細第 ${i + 1} 列不完整：請填商品代碼、數量（1 以上）與單價`;
      const item = { sku, qty: Number(qty), unit_price: price };
      const p = products.get(sku);
      if (p) item.name = p.name;
      out.push(item);
    }
    return out.length ? out : null;
  }

  const cents = (items) => items.reduce((sum, i) => sum + i.qty * Math.round(Number(i.unit_price) * 100), 0);

  function showTotal() {
    const items = rows();
    const ok = Array.isArray(items);
    $('itemsTotal').textContent = ok ? `合計 NT$${(cents(items) / 100).toLocaleString('zh-TW', { maximumFractionDigits: 2 })}` : '';
    $('useItemsTotal').hidden = !ok;
  }

  function clear() {
    $('itemRows').replaceChildren();
    $('itemsBox').open = false;
    showTotal();
  }

  C.onAward((body) => {
    const items = rows();
    if (typeof items === 'string') { C.banner(items); return false; }
    if (items) body.items = items;
    return true;
  });
  C.onAwarded(clear);

  $('addItem').addEventListener('click', addRow);
  $('useItemsTotal').addEventListener('click', () => {
    const items = rows();
    if (Array.isArray(items)) $('amount').value = (cents(items) / 100).toFixed(2).replace(/\.00$/, '');
  });
  $('itemsBox').addEventListener('toggle', () => {
    if ($('itemsBox').open && !products.size) loadProducts();
    if ($('itemsBox').open && !$('itemRows').children.length) addRow();
  });
  $('nextBtn').addEventListener('click', clear);
  showTotal();
})();
