/* Words for the console's details a marketer meets (issue 23 item 8): the composer's review and
 * segment size, the member page's ledger and message log, the members list's columns and filters,
 * the ready-made segments and the automation preview: [繁體中文, English], added to i18n.js's table. */
'use strict';
I18N.add({
  'camp.reviewNow': ['「{name}」將立即發送。', '"{name}" goes out now.'],
  'camp.sizing': ['計算人數中…', 'Counting…'],
  'camp.segmentSize': ['約 {n} 位可推播的會員', 'About {n} reachable members'],
  'err.campaign_not_draft': ['這個活動已不是草稿，請重新建立', 'This campaign is no longer a draft; compose a new one'],

  'members.store': ['門市', 'Store'],
  'members.spent': ['消費金額', 'Spent'],
  'members.receipt': ['單號 …{tail}', 'Receipt …{tail}'],
  'purpose.redemption': ['兌換通知', 'Redemption'],
  'purpose.confirmation': ['兌換確認', 'Spend confirmation'],
  'purpose.richmenu': ['圖文選單切換', 'Rich menu switch'],
  'purpose.tier_up': ['升等通知', 'Tier up'],
  'purpose.tier_down': ['降等通知', 'Tier down'],
  'purpose.tier_kept': ['保級通知', 'Tier kept'],
  'purpose.journey': ['自動化：{name}', 'Automation: {name}'],
  'purpose.campaign': ['推播活動', 'Campaign'],
  'members.export': ['匯出 CSV', 'Export CSV'],
  'members.col.name': ['姓名', 'Name'], 'members.col.tier': ['等級', 'Tier'], 'members.col.points': ['點數', 'Points'],
  'members.col.stamps': ['集點', 'Stamps'], 'members.col.lastVisit': ['最近來店', 'Last visit'], 'members.col.joined': ['入會日', 'Joined'],
  'members.filter.tier': ['會員等級', 'Tier'], 'members.filter.reach': ['推播狀態', 'Reachability'], 'members.filter.within': ['最近來店', 'Last visit'],
  'members.filter.anyTier': ['所有等級', 'Every tier'], 'members.filter.anyReach': ['所有狀態', 'Any status'],
  'members.filter.anyVisit': ['不限來店時間', 'Any time'], 'members.filter.withinDays': ['{n} 天內來過', 'Visited in {n} days'],
  'err.invalid_sort': ['無法依這個欄位排序', 'The list cannot be sorted by this'],
  'purpose.other': ['其他通知', 'Other'],
});
