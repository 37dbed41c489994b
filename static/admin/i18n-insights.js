/* Words for LINE's statistics per journey (its aggregation unit) and the dashboard's blocks per
 * campaign: [繁體中文, English], added to i18n.js's table. */
'use strict';
I18N.add({
  'dash.cb.title': ['推播活動造成的封鎖', 'Blocks caused by campaigns'],
  'dash.cb.sub': ['收到活動訊息後 {h} 小時內封鎖', 'blocked within {h} h of the campaign message'],
  'dash.cb.rates': ['各活動封鎖率（依發送日）', 'Block rate per campaign, by send date'],
  'dash.cb.weeks': ['每週封鎖人次：活動造成與其他', 'Unfollows per week: by campaigns and other'],
  'dash.cb.byCampaign': ['活動造成', 'By campaigns'], 'dash.cb.other': ['其他', 'Other'],
  'dash.cb.week': ['{from}–{to}', '{from}–{to}'],
  'dash.cb.share': ['活動造成 {p}', '{p} by campaigns'],
  'dash.cb.noUnfollows': ['這週沒有封鎖', 'No unfollows this week'],
  'dash.cb.tip': ['（{blocked}／{sent} 人）', '({blocked} of {sent})'],
  'dash.cb.tipOpen': ['（{blocked}／{sent} 人，24 小時未滿）', '({blocked} of {sent}, 24 h not over)'],
  'dash.cb.campaign': ['活動', 'Campaign'], 'dash.cb.sentOn': ['發送日', 'Sent on'], 'dash.cb.sent': ['送達', 'Sent'],
  'dash.cb.blocked': ['24 小時內封鎖', 'Blocked in 24 h'], 'dash.cb.rate': ['封鎖率', 'Block rate'],
  'dash.cb.open': ['{p}（未滿 24 小時）', '{p} (24 h not over)'],
  'dash.cb.none': ['期間內沒有發送推播活動，也沒有人封鎖。', 'No campaign was sent and nobody blocked in the period.'],
  'dash.cb.noCampaigns': ['期間內沒有發送推播活動', 'No campaign was sent in the period'],

  'set.journey.line.fetched': ['LINE 統計（{from}–{to}，送達 {n} 人）：曝光 {imp}・開啟 {open}・點擊 {click}', 'LINE ({from}–{to}, sent to {n}): {imp} impressions · {open} opened · {click} clicked'],
  'set.journey.line.rate': ['{n}（{p}）', '{n} ({p})'],
  'set.journey.line.withheld': ['少於 20 人', 'under 20'],
  'set.journey.line.not_fetched': ['LINE 的開啟與點擊統計會延遲數小時提供，尚未取得。', "LINE's opens and clicks arrive hours later; not fetched yet."],
  'set.journey.line.too_few_recipients': ['期間內送達少於 20 人，LINE 為保護隱私不提供任何數字。', 'Sent to fewer than 20 in the period: LINE shows no count (privacy).'],
  'set.journey.line.below_minimum': ['開啟或點擊少於 20 人時，LINE 為保護隱私不提供數字。', 'LINE shows no count under 20 users (privacy).'],
  'set.journey.line.error': ['無法向 LINE 取得統計，稍後會再試。', 'LINE statistics could not be fetched; will try again.'],
});
