/**
 * The simulated brand: its channels (with their volumes, conversion and churn), its products,
 * and the words its fans type. Numbers are shaped after a mid-size cosmetics brand: stores
 * convert best, a KOL livestream brings a spike of fans who convert and churn fast, a Moments ad
 * brings many cheap fans, organic follows trickle in every day.
 */

export type ChannelKind = 'wechat_qr' | 'code_batch' | 'store' | 'ad' | 'other';

/** How first follows of a channel spread over the days and hours of the window. */
export type Timing = 'store' | 'poster' | 'livestream' | 'ad' | 'steady';

export interface ChannelSpec {
  /** Channel id (`scene_str` of the QR); `organic` for follows without a scene. */
  id: string;
  name: string;
  /** Absent for `organic`, which is built in and never created. */
  kind?: ChannelKind;
  welcomeText?: string;
  /** Relative share of first follows. */
  share: number;
  /** Probability that a fan of this channel registers as a member (when time allows). */
  conversion: number;
  /** Of the converters, the share who register within hours of the follow. */
  fastConversion: number;
  /** Probability that a fan unfollows at some point. */
  unfollow: number;
  /** Probability that a registered fan buys in the Youzan WeChat mall. */
  youzanBuy: number;
  timing: Timing;
  /** Fans of this channel who scan product codes (the pack-in card of a code batch). */
  codeScanRate: number;
}

/** The channel whose QR is printed on the pack-in card next to the one-code-per-item code. */
export const CODE_BATCH_CHANNEL = 'pack_card_serum';

export const CHANNELS: readonly ChannelSpec[] = [
  {
    id: 'store_sh_jingan',
    name: '上海静安嘉里中心店',
    kind: 'wechat_qr',
    welcomeText: '欢迎光临静安嘉里中心店！注册会员即送精华小样一份，到店出示会员码领取。',
    share: 12,
    conversion: 0.46,
    fastConversion: 0.72,
    unfollow: 0.05,
    youzanBuy: 0.34,
    timing: 'store',
    codeScanRate: 0,
  },
  {
    id: 'store_bj_sanlitun',
    name: '北京三里屯太古里店',
    kind: 'wechat_qr',
    welcomeText: '欢迎来到三里屯太古里店～ 注册会员享首单 9 折，积分全渠道通用。',
    share: 10,
    conversion: 0.41,
    fastConversion: 0.7,
    unfollow: 0.06,
    youzanBuy: 0.3,
    timing: 'store',
    codeScanRate: 0,
  },
  {
    id: 'store_gz_tianhe',
    name: '广州天河正佳店',
    kind: 'wechat_qr',
    welcomeText: '天河正佳店欢迎您！点击菜单「会员中心」完成注册，生日月双倍积分。',
    share: 7,
    conversion: 0.37,
    fastConversion: 0.66,
    unfollow: 0.06,
    youzanBuy: 0.28,
    timing: 'store',
    codeScanRate: 0,
  },
  {
    id: 'poster_spring_launch',
    name: '春季新品海报',
    kind: 'wechat_qr',
    welcomeText: '感谢关注！春季新品「焕亮精华」已上市，注册会员抢先领 50 元券。',
    share: 9,
    conversion: 0.19,
    fastConversion: 0.55,
    unfollow: 0.11,
    youzanBuy: 0.22,
    timing: 'poster',
    codeScanRate: 0,
  },
  {
    id: 'kol_live_spring',
    name: 'KOL 直播间 · 春季专场',
    kind: 'wechat_qr',
    welcomeText: '直播间专属福利已到账！注册会员即可领取直播同款体验装，限量 3000 份。',
    share: 17,
    conversion: 0.14,
    fastConversion: 0.85,
    unfollow: 0.24,
    youzanBuy: 0.3,
    timing: 'livestream',
    codeScanRate: 0,
  },
  {
    id: 'ad_moments_cpc',
    name: '朋友圈广告 · 新客投放',
    kind: 'ad',
    welcomeText: '欢迎从朋友圈来到这里！新人注册立得 20 积分，可兑换旅行装。',
    share: 12,
    conversion: 0.08,
    fastConversion: 0.6,
    unfollow: 0.19,
    youzanBuy: 0.15,
    timing: 'ad',
    codeScanRate: 0,
  },
  {
    id: 'store_cd_ifs_popup',
    name: '成都 IFS 快闪店',
    kind: 'store',
    welcomeText: '成都 IFS 快闪店欢迎您，扫码注册即可参与现场抽奖。',
    share: 4,
    conversion: 0.33,
    fastConversion: 0.8,
    unfollow: 0.08,
    youzanBuy: 0.25,
    timing: 'store',
    codeScanRate: 0,
  },
  {
    id: CODE_BATCH_CHANNEL,
    name: '精华液包装内卡 · 一物一码',
    kind: 'code_batch',
    welcomeText: '感谢购买焕亮精华！刮开内卡涂层扫码即可领取积分，注册会员积分可兑换正装。',
    share: 6,
    conversion: 0.31,
    fastConversion: 0.6,
    unfollow: 0.05,
    youzanBuy: 0.28,
    timing: 'steady',
    codeScanRate: 0.8,
  },
  {
    id: 'organic',
    name: '自然关注',
    share: 23,
    conversion: 0.15,
    fastConversion: 0.5,
    unfollow: 0.09,
    youzanBuy: 0.2,
    timing: 'steady',
    codeScanRate: 0,
  },
];

/** Channels the simulator creates through the admin API (everything but organic). */
export const CREATED_CHANNELS = CHANNELS.filter((c): c is ChannelSpec & { kind: ChannelKind } => c.kind !== undefined);

export interface Product {
  sku: string;
  title: string;
  /** Unit price in fen. */
  priceFen: number;
  weight: number;
}

export const PRODUCTS: readonly Product[] = [
  { sku: 'SKU-0001', title: '焕亮精华液 30ml', priceFen: 29900, weight: 30 },
  { sku: 'SKU-0002', title: '保湿面霜 50g', priceFen: 21900, weight: 18 },
  { sku: 'SKU-0003', title: '氨基酸洁面乳 100g', priceFen: 10000, weight: 20 },
  { sku: 'SKU-0004', title: '清透防晒乳 50ml', priceFen: 16800, weight: 14 },
  { sku: 'SKU-0005', title: '明星护肤套装', priceFen: 59900, weight: 8 },
  { sku: 'SKU-0006', title: '精华体验装 7ml', priceFen: 3900, weight: 10 },
];

/** The product whose pack-in card carries the one-code-per-item codes. */
export const CODE_PRODUCT = { sku: 'SKU-0001', name: '焕亮精华液 30ml', points: 20, region: '华东' };

export const TEXT_MESSAGES: readonly string[] = [
  '你好',
  '怎么注册会员？',
  '积分怎么用',
  '新品什么时候到货',
  '我的订单发货了吗',
  '门店几点关门',
  '直播间的券在哪里领',
  '敏感肌可以用精华吗',
  '会员生日有礼物吗',
  '人工客服',
  '1',
  '小样还有吗',
];

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '罗', '高'];
const GIVEN = ['静', '敏', '婷', '丽', '娜', '芳', '雪', '琳', '晓', '欣', '怡', '佳', '雨', '悦', '思', '子', '涵', '萱', '宇', '浩', '晨', '然', '一', '可'];

export function personName(pick: <T>(xs: readonly T[]) => T, twoChars: boolean): string {
  return pick(SURNAMES) + pick(GIVEN) + (twoChars ? pick(GIVEN) : '');
}

/** Mainland mobile prefixes (carrier segments). */
export const PHONE_PREFIXES: readonly string[] = [
  '130', '131', '132', '133', '135', '136', '137', '138', '139', '150',
  '151', '152', '155', '156', '158', '159', '166', '176', '177', '180',
  '181', '186', '187', '188', '189', '191', '198', '199',
];
