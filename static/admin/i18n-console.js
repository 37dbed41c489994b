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
  'purpose.other': ['其他通知', 'Other'],
});
