/* demo.c - the demo district generator: tables of names and codes, keyed
 * permutations for unique numbers, and one record per index. */
#include "demo/demo.h"

#include "core/date.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers --------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A splitmix64 stream for one record: (seed, stream, index) -> numbers. */
struct rng {
    uint64_t s;
};

static struct rng rng_for(uint64_t seed, uint64_t stream, uint64_t index)
{
    struct rng r = {mix64(seed ^ mix64(stream * 0x9E3779B97F4A7C15ull ^ mix64(index + 1)))};
    return r;
}

static uint64_t next(struct rng *r)
{
    r->s += 0x9E3779B97F4A7C15ull;
    return mix64(r->s);
}

/* Uniform in [0, n) (n > 0); the bias of the modulo is below 2^-40 for
 * every n used here. */
static uint64_t below(struct rng *r, uint64_t n)
{
    return next(r) % n;
}

/* 1 with probability per_mille / 1000. */
static int chance(struct rng *r, unsigned per_mille)
{
    return below(r, 1000) < per_mille;
}

/* ---- permutations ----------------------------------------------------- */

/* A keyed bijection of [0, n): a 4-round balanced Feistel network on the
 * smallest even number of bits that holds n, with cycle walking. Distinct
 * inputs give distinct outputs, which is what keeps numbers unique. */
struct feistel {
    uint64_t n, mask;
    int half;
    uint64_t key[4];
};

static void feistel_init(struct feistel *p, uint64_t n, uint64_t seed, uint64_t stream)
{
    int bits = 2;
    while (bits < 62 && (1ull << bits) < n) bits++;
    if (bits & 1) bits++;
    p->n = n;
    p->half = bits / 2;
    p->mask = (1ull << p->half) - 1;
    for (int k = 0; k < 4; k++) p->key[k] = mix64(seed ^ mix64(stream * 4 + (uint64_t)k + 1));
}

static uint64_t feistel_at(const struct feistel *p, uint64_t x)
{
    do {
        uint64_t l = x >> p->half, r = x & p->mask;
        for (int k = 0; k < 4; k++) {
            uint64_t t = l ^ (mix64(r ^ p->key[k]) & p->mask);
            l = r;
            r = t;
        }
        x = (l << p->half) | r;
    } while (x >= p->n);
    return x;
}

/* Record streams and permutation keys (distinct per use). */
enum {
    S_EMPLOYER = 1, S_TALENT, P_ORG, P_BRAND, P_RESIDENT, P_FOREIGN, P_PHONE, P_CARD,
    /* housing (added later: the numbers above keep their data) */
    S_OPERATOR, S_PROJECT, S_UNIT, S_UNIT_PLAN, S_LEASE, P_OPERATOR_BRAND, P_TENANT, P_ADDRESS,
    P_VERIFICATION, P_FILING,
    /* applicants (demo_params.applicants) */
    S_APPLICANT
};

/* ---- tables ----------------------------------------------------------- */

#define COUNT(t) (sizeof t / sizeof t[0])

/* Picks from a table of integer weights. */
static size_t pick_weighted(struct rng *r, const unsigned *w, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++) total += w[i];
    uint64_t x = below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

/* Industry clusters: Chinese name (as people write it), share in per mille,
 * and the words that end the names of employers in it. */
#define SUFFIXES 5
static const struct {
    const char *zh;
    unsigned share;
    const char *suffix[SUFFIXES];
} industries[] = {
    {"人工智能", 150, {"智能科技", "人工智能科技", "智算科技", "机器人科技", "数据智能科技"}},
    {"生命健康", 300, {"生物医药科技", "医疗器械", "生物科技", "医药研发", "健康科技"}},
    {"金融科技", 110, {"金融信息服务", "金融科技", "数字支付科技", "投资管理", "征信服务"}},
    {"先进制造", 120, {"精密机械", "新材料科技", "半导体设备", "智能装备", "汽车零部件"}},
    {"数字经济", 160, {"数字科技", "网络科技", "信息技术", "云计算科技", "软件"}},
    {"文化创意", 100, {"文化传媒", "影视文化", "设计咨询", "文化创意", "数字娱乐"}},
    {"其他", 60, {"企业管理咨询", "商务服务", "教育科技", "物业服务", "贸易"}},
};

/* Characters of company brand names (two distinct ones make a brand). */
static const char *const brand_chars[] = {
    "华", "星", "云", "智", "芯", "联", "创", "科", "源", "瑞", "达", "恒", "信", "泰", "和",
    "嘉", "宏", "博", "明", "天", "新", "远", "鼎", "晟", "卓", "越", "凯", "润", "安", "康",
    "汇", "通", "盛", "誉", "峰", "海", "辰", "宇", "航", "启", "元", "合", "众", "聚", "拓",
    "维", "优", "锐", "睿", "思", "灵", "图", "数", "算", "光", "磁", "量", "子", "微", "纳",
    "曜", "澜", "沐", "朗", "悦", "晶", "熙", "骏", "腾", "跃", "驰", "翔", "鸿", "鹏", "麒",
    "麟", "龙", "凤", "松", "柏", "竹", "兰", "桐", "枫", "岚", "霖", "泉", "溪", "川", "江",
    "湖", "港", "湾", "岳", "嵩", "衡", "瀚", "昊", "旭", "晨", "昕", "曦", "煜", "炎", "焱",
    "鑫", "铭", "钧", "锦", "银", "铂", "金", "玉", "琳", "瑜", "璞", "珑", "瑾", "琦", "璟",
};
#define BRAND_N ((uint64_t)COUNT(brand_chars))
#define BRAND_SPACE (BRAND_N * (BRAND_N - 1) * SUFFIXES)

/* Where employers outside the district are registered. */
static const char *const other_areas[] = {
    "310101", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
    "310114", "310115", "310115", "310115", "310116", "310117", "310118", "310120",
    "110108", "320506", "330106", "440305",
};

/* Area codes of resident ID numbers, with a weight (1 to 4): a weight of w
 * gives the area w blocks of 250 sequence numbers, each over its own range
 * of birth dates (block_window), younger for the later blocks. Areas that
 * were merged away (卢湾 310103, 闸北 310108) still appear, as they do on
 * the cards of people born before the merger. */
static const struct {
    const char *code;
    int weight;
} areas[] = {
    {"310104", 4}, {"310101", 3}, {"310105", 3}, {"310106", 3}, {"310107", 3}, {"310109", 2},
    {"310110", 3}, {"310112", 3}, {"310113", 2}, {"310114", 2}, {"310115", 4}, {"310116", 1},
    {"310117", 2}, {"310118", 1}, {"310120", 1}, {"310151", 1}, {"310103", 1}, {"310108", 1},
    {"110101", 1}, {"110105", 1}, {"110108", 2}, {"120101", 1}, {"130102", 1}, {"140105", 1},
    {"150102", 1}, {"210102", 1}, {"220102", 1}, {"230103", 1}, {"320102", 2}, {"320106", 2},
    {"320205", 2}, {"320506", 2}, {"320583", 2}, {"321002", 1}, {"330106", 2}, {"330203", 2},
    {"330302", 1}, {"340104", 2}, {"340202", 1}, {"350203", 1}, {"360102", 1}, {"370102", 1},
    {"370202", 1}, {"410105", 1}, {"420106", 2}, {"420111", 1}, {"430104", 1}, {"440106", 1},
    {"440305", 1}, {"450103", 1}, {"460106", 1}, {"500103", 1}, {"510107", 1}, {"520102", 1},
    {"530102", 1}, {"610113", 1}, {"620102", 1}, {"630103", 1}, {"640104", 1}, {"650102", 1},
};

/* Birth dates of each block of sequence numbers (see areas). */
static const int block_window[4][2] = {
    {19660101, 20030630}, {19780101, 20011231}, {19850101, 20001231}, {19880101, 19991231}};

/* Foreigner permanent-residence IDs: '9', province, nationality. */
static const char *const foreign_provinces[] = {"31", "31", "31", "11", "44"};
static const struct {
    const char *code;
    int style; /* 0 western, 1 Japanese, 2 Korean */
} nationalities[] = {
    {"840", 0}, {"826", 0}, {"392", 1}, {"410", 2}, {"276", 0}, {"250", 0}, {"124", 0},
    {"036", 0}, {"702", 0}, {"643", 0}, {"380", 0}, {"528", 0}, {"752", 0}, {"756", 0},
};
static const int foreign_window[2] = {19600101, 19981231};
/* With applicants (demo_params.applicants), every ID number of the district
 * is drawn from these birth dates instead: people of an age the district
 * policy takes with a degree (a doctor up to 45). */
static const int applicant_window[2] = {19830101, 20020630};
static const int applicant_foreign_window[2] = {19830101, 19981231};
#define FOREIGN_PERIOD 200 /* one talent in 200 has a foreigner's ID */
#define FOREIGN_AT 137

#define SEQ_BLOCK 250

/* Surnames with their frequency (per ten thousand, rounded). */
static const struct {
    const char *s;
    unsigned w;
} surnames[] = {
    {"王", 720}, {"李", 710}, {"张", 680}, {"刘", 530}, {"陈", 450}, {"杨", 310}, {"黄", 220},
    {"赵", 200}, {"吴", 200}, {"周", 190}, {"徐", 150}, {"孙", 150}, {"马", 130}, {"朱", 130},
    {"胡", 120}, {"郭", 110}, {"何", 100}, {"高", 100}, {"林", 100}, {"罗", 90},  {"郑", 90},
    {"梁", 80},  {"谢", 70},  {"宋", 70},  {"唐", 70},  {"许", 60},  {"韩", 60},  {"冯", 60},
    {"邓", 60},  {"曹", 60},  {"彭", 60},  {"曾", 50},  {"肖", 50},  {"田", 50},  {"董", 50},
    {"袁", 50},  {"潘", 50},  {"于", 50},  {"蒋", 50},  {"蔡", 50},  {"余", 50},  {"杜", 40},
    {"叶", 40},  {"程", 40},  {"苏", 40},  {"魏", 40},  {"吕", 40},  {"丁", 40},  {"任", 40},
    {"沈", 40},  {"姚", 30},  {"卢", 30},  {"姜", 30},  {"崔", 30},  {"钟", 30},  {"谭", 30},
    {"陆", 30},  {"汪", 30},  {"范", 30},  {"金", 30},  {"石", 30},  {"廖", 30},  {"贾", 30},
    {"夏", 30},  {"韦", 30},  {"付", 30},  {"方", 30},  {"白", 30},  {"邹", 30},  {"孟", 30},
    {"熊", 30},  {"秦", 20},  {"邱", 20},  {"江", 20},  {"尹", 20},  {"薛", 20},  {"闫", 20},
    {"段", 20},  {"雷", 20},  {"侯", 20},  {"龙", 20},  {"史", 20},  {"陶", 20},  {"黎", 20},
    {"贺", 20},  {"顾", 20},  {"毛", 20},  {"郝", 20},  {"龚", 20},  {"邵", 20},  {"万", 20},
    {"钱", 20},  {"严", 20},  {"武", 20},  {"戴", 20},  {"覃", 10},  {"莫", 10},  {"孔", 10},
    {"向", 10},  {"汤", 10},  {"欧阳", 5}, {"上官", 2}, {"司马", 2}, {"诸葛", 1},
};

static const char *const given_male[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华",
    "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳",
    "建", "国", "峰", "晨", "博", "文", "轩", "昊", "然", "睿", "泽", "子", "一", "天", "思",
    "嘉", "志", "宏", "成", "彬", "毅", "翔", "坤", "亮", "锋", "晓", "海", "东", "永", "哲",
};
static const char *const given_female[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "颖", "琳",
    "倩", "洁", "欣", "怡", "佳", "梦", "雨", "晴", "瑶", "萱", "琪", "悦", "涵", "诗", "月",
    "彤", "蕾", "薇", "丹", "红", "萍", "妍", "璐", "菲", "瑾", "思", "嘉", "子", "一", "晓",
};

static const char *const western_male[] = {"约翰", "大卫", "迈克尔", "托马斯", "丹尼尔",
                                           "詹姆斯", "亚历山大", "马克", "彼得", "安德鲁"};
static const char *const western_female[] = {"安娜", "玛丽亚", "艾米丽", "索菲亚", "劳拉",
                                             "爱丽丝", "露西", "朱莉娅", "艾玛", "克莱尔"};
static const char *const western_surnames[] = {"史密斯", "米勒", "布朗", "穆勒", "马丁",
                                               "约翰逊", "威尔逊", "贝克", "施密特", "杜邦",
                                               "罗西", "范德贝克", "安德森", "霍夫曼"};
static const char *const japanese_surnames[] = {"佐藤", "铃木", "高桥", "田中", "渡边",
                                                "伊藤", "山本", "中村"};
static const char *const japanese_male[] = {"健太", "翔太", "大辉", "拓海", "直树"};
static const char *const japanese_female[] = {"美咲", "阳菜", "结衣", "爱子", "由美"};
static const char *const korean_surnames[] = {"金", "李", "朴", "崔", "郑", "姜"};
static const char *const korean_male[] = {"敏俊", "智勋", "成民", "东贤", "俊浩"};
static const char *const korean_female[] = {"秀彬", "智恩", "瑞妍", "惠珍", "恩熙"};

static const char *const mobile_prefixes[] = {
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "177", "180",
    "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
};

/* UnionPay issuer numbers (BIN) and the length of their card numbers. */
static const struct {
    const char *bin;
    int len;
} card_bins[] = {
    {"622202", 19}, {"621226", 19}, {"622848", 19}, {"621700", 19}, {"623668", 19},
    {"622588", 16}, {"621483", 16}, {"622262", 19}, {"621661", 19}, {"622908", 18},
    {"622700", 19}, {"621485", 16}, {"623058", 19}, {"621799", 19},
};

/* ---- the generator ---------------------------------------------------- */

struct area_entry {
    char code[7];
    int block;        /* sequence numbers block*SEQ_BLOCK .. +SEQ_BLOCK-1 */
    int32_t first;    /* first birth day */
    uint64_t start;   /* first slot of this entry */
};

struct demo {
    struct demo_params p;
    int32_t as_of;
    struct demo_employer *employers;
    unsigned char *registered_emp; /* 1 if employer i is registered in the district */
    uint64_t *emp_cum;             /* cumulative hiring weights */
    struct area_entry *resident;   /* entries of the resident ID space */
    size_t nresident;
    uint64_t resident_space, foreign_space;
    int32_t foreign_first, foreign_days; /* birth dates of foreigners' IDs */
    struct feistel org, brand, res, forn, phone, card;
    /* housing */
    struct demo_operator *operators;
    int64_t noperators, nunits, project_size;
    int64_t *lease_first;   /* nunits + 1 entries: the first lease number of unit i as planned */
    int64_t *tenants;       /* the talent index of lease j, for j < ntenants */
    int64_t ntenants;       /* leases that have a tenant (the rest are not generated) */
    struct feistel op_brand, address, verification, filing, tenant_perm;
};

static void housing_open(demo *d);

int64_t demo_people(const demo *d)
{
    return d->p.people;
}

int64_t demo_batch(const demo *d)
{
    return d->p.batch ? d->p.batch : 100000;
}

int64_t demo_employer_count(const demo *d)
{
    return d->p.employers;
}

const struct demo_employer *demo_employer(const demo *d, int64_t i)
{
    return &d->employers[i];
}

static int32_t ymd(int v)
{
    return date_from_ymd(v / 10000, v / 100 % 100, v % 100);
}

static void day_text(int32_t day, char out[11])
{
    date_format(day, out, 11);
}

/* GB 11714 check character of an 8-character organization code body. */
static char org_check(const char body[8])
{
    static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int v = body[i] >= '0' && body[i] <= '9' ? body[i] - '0' : body[i] - 'A' + 10;
        sum += v * w[i];
    }
    int c = 11 - sum % 11;
    return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

static const char credit_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* GB 32100 check character of the first 17 characters. */
static char credit_check(const char code[17])
{
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (int)(strchr(credit_alphabet, code[i]) - credit_alphabet) * w[i];
    int c = 31 - sum % 31;
    return credit_alphabet[c == 31 ? 0 : c];
}

/* The credit code of organization slot k (distinct slots give distinct
 * codes): 9 (market regulator) 1 (enterprise), the area, the organization
 * code (8 characters and its GB 11714 check), the check. modern: the form
 * issued since 2015, MA1 and five characters. */
static void make_credit_code(const demo *d, uint64_t slot, const char *area, int modern,
                             char out[19])
{
    uint64_t k = feistel_at(&d->org, slot);
    char body[9];
    if (modern) {
        body[0] = 'M';
        body[1] = 'A';
        body[2] = '1';
        for (int j = 7; j >= 3; j--) {
            body[j] = credit_alphabet[k % 31];
            k /= 31;
        }
        body[8] = '\0';
    } else {
        snprintf(body, sizeof body, "%08llu", (unsigned long long)k);
    }
    char code[19];
    snprintf(code, sizeof code, "91%s%.8s%c", area, body, org_check(body));
    code[17] = credit_check(code);
    code[18] = '\0';
    memcpy(out, code, sizeof code);
}

/* Hiring weight of each size of employer. */
enum { W_LARGE = 400, W_MEDIUM = 40, W_SMALL = 6 };

static void make_employer(demo *d, int64_t i, struct demo_employer *e, unsigned *weight)
{
    struct rng r = rng_for(d->p.seed, S_EMPLOYER, (uint64_t)i);
    unsigned shares[COUNT(industries)];
    for (size_t k = 0; k < COUNT(industries); k++) shares[k] = industries[k].share;
    size_t ind = pick_weighted(&r, shares, COUNT(industries));
    unsigned size = (unsigned)below(&r, 1000);
    *weight = size < 20 ? W_LARGE : size < 170 ? W_MEDIUM : W_SMALL;
    int registered = chance(&r, 850);
    int taxed = registered ? chance(&r, 950) : chance(&r, 300);
    int key = chance(&r, *weight == W_LARGE ? 400 : *weight == W_MEDIUM ? 80 : 10);
    if (i == 0) {
        /* The anchor: the employer of the demo HR account. */
        snprintf(e->credit_code, sizeof e->credit_code, "%s", DEMO_ANCHOR_CREDIT_CODE);
        snprintf(e->name, sizeof e->name, "上海千里马人工智能科技有限公司");
        e->industry = industries[0].zh;
        e->registered = e->taxed = e->key_enterprise = "是";
        *weight = W_MEDIUM;
        return;
    }
    const char *area = registered ? "310104" : other_areas[below(&r, COUNT(other_areas))];
    make_credit_code(d, (uint64_t)(i - 1), area, chance(&r, 600), e->credit_code);

    uint64_t b = feistel_at(&d->brand, (uint64_t)(i - 1));
    uint64_t v = b % SUFFIXES, rest = b / SUFFIXES;
    uint64_t first = rest % BRAND_N, second = rest / BRAND_N;
    if (second >= first) second++;
    snprintf(e->name, sizeof e->name, "上海%s%s%s有限公司", brand_chars[first], brand_chars[second],
             industries[ind].suffix[v]);
    e->industry = industries[ind].zh;
    e->registered = registered ? "是" : "否";
    e->taxed = taxed ? "是" : "否";
    e->key_enterprise = key ? "是" : "否";
}

int demo_open(const struct demo_params *p, demo **out, ql_err *err)
{
    *out = NULL;
    if (p->people < 0 || p->people > DEMO_PEOPLE_MAX)
        return ql_errf(err, QL_EINVAL, "people", "people: from 0 to %d", "people：应在 0 到 %d 之间",
                       DEMO_PEOPLE_MAX);
    if (p->batch < 0)
        return ql_errf(err, QL_EINVAL, "batch", "batch: a positive number of talents",
                       "batch：应为正整数");
    if (p->applicants < 0 || p->applicants > p->people)
        return ql_errf(err, QL_EINVAL, "applicants", "applicants: from 0 to the number of people",
                       "applicants：应在 0 到人数之间");
    if (p->employers < 0 || p->employers > DEMO_EMPLOYERS_MAX)
        return ql_errf(err, QL_EINVAL, "employers", "employers: from 1 to %d",
                       "employers：应在 1 到 %d 之间", DEMO_EMPLOYERS_MAX);
    demo *d = xcalloc(1, sizeof *d);
    d->p = *p;
    if (!d->p.employers) {
        int64_t e = p->people / 100;
        d->p.employers = e < 10 ? 10 : e > DEMO_EMPLOYERS_MAX ? DEMO_EMPLOYERS_MAX : e;
    }
    date_parse(DEMO_AS_OF, &d->as_of);
    uint64_t seed = p->seed;
    feistel_init(&d->org, 28629151ull /* 31^5 */, seed, P_ORG);
    feistel_init(&d->brand, BRAND_SPACE, seed, P_BRAND);
    feistel_init(&d->phone, 100000000ull, seed, P_PHONE);
    feistel_init(&d->card, 1000000000ull, seed, P_CARD);

    /* The resident ID space: one entry per area and block. */
    size_t n = 0;
    for (size_t a = 0; a < COUNT(areas); a++) n += (size_t)areas[a].weight;
    d->resident = xcalloc(n, sizeof *d->resident);
    uint64_t start = 0;
    for (size_t a = 0; a < COUNT(areas); a++)
        for (int b = 0; b < areas[a].weight; b++) {
            struct area_entry *e = &d->resident[d->nresident++];
            memcpy(e->code, areas[a].code, 7);
            const int *w = p->applicants ? applicant_window : block_window[b];
            e->block = b;
            e->first = ymd(w[0]);
            e->start = start;
            start += (uint64_t)(ymd(w[1]) - e->first + 1) * SEQ_BLOCK;
        }
    d->resident_space = start;
    const int *fw = p->applicants ? applicant_foreign_window : foreign_window;
    d->foreign_first = ymd(fw[0]);
    d->foreign_days = ymd(fw[1]) - d->foreign_first + 1;
    d->foreign_space = (uint64_t)COUNT(foreign_provinces) * COUNT(nationalities) *
                       (uint64_t)d->foreign_days * 1000;
    feistel_init(&d->res, d->resident_space, seed, P_RESIDENT);
    feistel_init(&d->forn, d->foreign_space, seed, P_FOREIGN);

    int64_t ne = d->p.employers;
    d->employers = xcalloc((size_t)ne, sizeof *d->employers);
    d->registered_emp = xcalloc((size_t)ne, 1);
    d->emp_cum = xcalloc((size_t)ne, sizeof *d->emp_cum);
    uint64_t cum = 0;
    for (int64_t i = 0; i < ne; i++) {
        unsigned w;
        make_employer(d, i, &d->employers[i], &w);
        d->registered_emp[i] = !strcmp(d->employers[i].registered, "是");
        cum += w;
        d->emp_cum[i] = cum;
    }
    housing_open(d);
    *out = d;
    return 0;
}

void demo_close(demo *d)
{
    if (!d) return;
    free(d->employers);
    free(d->registered_emp);
    free(d->emp_cum);
    free(d->resident);
    free(d->operators);
    free(d->lease_first);
    free(d->tenants);
    free(d);
}

/* An employer drawn by hiring weight. */
static int64_t pick_employer(const demo *d, struct rng *r)
{
    int64_t n = d->p.employers;
    uint64_t x = below(r, d->emp_cum[n - 1]);
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (d->emp_cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* The ID number of talent i (unique: a permutation picks its slot). */
static void id_number(const demo *d, int64_t i, struct demo_talent *t, int32_t *birth,
                      int *female, int *style)
{
    char region[7];
    int32_t day;
    unsigned seq;
    *style = -1;
    if (i % FOREIGN_PERIOD == FOREIGN_AT) {
        uint64_t slot = feistel_at(&d->forn, (uint64_t)(i / FOREIGN_PERIOD));
        seq = (unsigned)(slot % 1000);
        slot /= 1000;
        day = d->foreign_first + (int32_t)(slot % (uint64_t)d->foreign_days);
        slot /= (uint64_t)d->foreign_days;
        size_t nat = slot % COUNT(nationalities);
        snprintf(region, sizeof region, "9%s%s", foreign_provinces[slot / COUNT(nationalities)],
                 nationalities[nat].code);
        *style = nationalities[nat].style;
        t->foreign = 1;
    } else {
        uint64_t rank = (uint64_t)(i - (i + FOREIGN_PERIOD - FOREIGN_AT - 1) / FOREIGN_PERIOD);
        uint64_t slot = feistel_at(&d->res, rank);
        size_t lo = 0, hi = d->nresident - 1;
        while (lo < hi) {
            size_t mid = (lo + hi + 1) / 2;
            if (d->resident[mid].start <= slot) lo = mid;
            else hi = mid - 1;
        }
        const struct area_entry *e = &d->resident[lo];
        uint64_t off = slot - e->start;
        day = e->first + (int32_t)(off / SEQ_BLOCK);
        seq = (unsigned)(e->block * SEQ_BLOCK) + (unsigned)(off % SEQ_BLOCK);
        memcpy(region, e->code, 7);
        t->foreign = 0;
    }
    int y, m, dd;
    date_to_ymd(day, &y, &m, &dd);
    char s[19];
    snprintf(s, sizeof s, "%s%04d%02d%02d%03u", region, y, m, dd, seq);
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int k = 0; k < 17; k++) sum += (s[k] - '0') * w[k];
    s[17] = "10X98765432"[sum % 11];
    s[18] = '\0';
    memcpy(t->id_number, s, sizeof s);
    *birth = day;
    *female = seq % 2 == 0;
}

#define PICK(r, table) (table[below(r, COUNT(table))])

static void person_name(struct rng *r, int female, int style, char *out, size_t n)
{
    if (style == 0) {
        snprintf(out, n, "%s·%s", female ? PICK(r, western_female) : PICK(r, western_male),
                 PICK(r, western_surnames));
        return;
    }
    if (style == 1) {
        snprintf(out, n, "%s%s", PICK(r, japanese_surnames),
                 female ? PICK(r, japanese_female) : PICK(r, japanese_male));
        return;
    }
    if (style == 2) {
        snprintf(out, n, "%s%s", PICK(r, korean_surnames),
                 female ? PICK(r, korean_female) : PICK(r, korean_male));
        return;
    }
    unsigned w[COUNT(surnames)];
    for (size_t k = 0; k < COUNT(surnames); k++) w[k] = surnames[k].w;
    const char *sur = surnames[pick_weighted(r, w, COUNT(surnames))].s;
    const char *a = female ? PICK(r, given_female) : PICK(r, given_male);
    if (chance(r, 200)) {
        snprintf(out, n, "%s%s", sur, a);
        return;
    }
    const char *b = female ? PICK(r, given_female) : PICK(r, given_male);
    if (!strcmp(a, b) && !chance(r, 300)) b = female ? PICK(r, given_female) : PICK(r, given_male);
    snprintf(out, n, "%s%s%s", sur, a, b);
}

/* Luhn check digit of digits (the number without it). */
static char luhn_digit(const char *digits)
{
    size_t n = strlen(digits);
    int sum = 0;
    for (size_t k = 0; k < n; k++) {
        int v = digits[n - 1 - k] - '0';
        if (k % 2 == 0) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

/* A UnionPay card number for talent i (unique: a permutation gives it 9
 * digits of its own). */
static void card_number(const demo *d, struct rng *r, int64_t i, struct demo_talent *t)
{
    size_t c = below(r, COUNT(card_bins));
    char digits[24];
    /* issuer, filler, 9 unique digits, then the Luhn digit */
    int filler = card_bins[c].len - 6 - 9 - 1;
    int used = snprintf(digits, sizeof digits, "%s", card_bins[c].bin);
    for (int k = 0; k < filler; k++) digits[used++] = (char)('0' + below(r, 10));
    snprintf(digits + used, sizeof digits - (size_t)used, "%09llu",
             (unsigned long long)feistel_at(&d->card, (uint64_t)i));
    size_t len = strlen(digits); /* at most 18: the longest card has 19 digits */
    memcpy(t->bank_account, digits, len);
    t->bank_account[len] = luhn_digit(digits);
    t->bank_account[len + 1] = '\0';
}

static int32_t months_between(int32_t from, int32_t to)
{
    int y1, m1, d1, y2, m2, d2;
    date_to_ymd(from, &y1, &m1, &d1);
    date_to_ymd(to, &y2, &m2, &d2);
    int32_t m = (y2 - y1) * 12 + (m2 - m1) - (d2 < d1);
    return m < 0 ? 0 : m;
}

/* Talent i (i < demo_params.applicants) drawn as an applicant whom
 * policies/district-rent.policy takes once they rent a filed flat: a
 * bachelor up to 35, a master up to 40 or a doctor up to 45 years old at the
 * end of 2026 (the ID number's birth date comes from applicant_window), a
 * talent level A, B or C, employed by an employer registered in the district
 * since at least 200 days before DEMO_AS_OF (so 6 months of insurance or
 * more), no housing of their own, and a bank card. */
static void applicant_talent(const demo *d, int64_t i, struct demo_talent *t)
{
    struct rng r = rng_for(d->p.seed, S_APPLICANT, (uint64_t)i);
    int32_t birth;
    int female, style;
    id_number(d, i, t, &birth, &female, &style);
    person_name(&r, female, style, t->name, sizeof t->name);
    int by, bm, bd;
    date_to_ymd(birth, &by, &bm, &bd);
    (void)bm;
    (void)bd;
    if (chance(&r, 970))
        snprintf(t->phone, sizeof t->phone, "%s%08llu", PICK(&r, mobile_prefixes),
                 (unsigned long long)feistel_at(&d->phone, (uint64_t)i));
    card_number(d, &r, i, t);

    /* the degrees the age allows, by the policy's limits at the end of 2026 */
    static const char *const edu[] = {"其他", "本科", "硕士", "博士"};
    static const int age_limit[] = {0, 35, 40, 45};
    static const int grad_age[] = {19, 22, 25, 28};
    static const int grad_jitter[] = {3, 2, 3, 4};
    int age = 2026 - by; /* full years on 2026-12-31 */
    unsigned share[] = {0, 500, 350, 120};
    for (int k = 1; k < 4; k++)
        if (age > age_limit[k]) share[k] = 0;
    size_t e = pick_weighted(&r, share, COUNT(share));
    int jitter = (int)below(&r, 1000);
    int32_t latest = d->as_of - 200; /* graduated and employed by then */
    int32_t grad;
    for (;;) {
        int gy = by + grad_age[e] + jitter % grad_jitter[e];
        grad = date_from_ymd(gy, 6, 20) + (int32_t)(jitter % 12);
        if (grad <= latest || e == 1) break;
        e--; /* too young for that degree: the one below (the age allows it) */
    }
    if (grad > latest) grad = latest - (int32_t)(jitter % 30);
    t->education = edu[e];
    day_text(grad, t->graduation_date);

    unsigned lv = (unsigned)below(&r, 1000);
    t->level[0] = lv < 90u + (e == 3) * 200u ? 'A' : lv < 460 ? 'B' : 'C';
    t->category = "光启人才";

    /* an employer registered in the district (the anchor is) */
    int64_t cur = pick_employer(d, &r);
    for (int k = 0; k < 32 && !d->registered_emp[cur]; k++) cur = pick_employer(d, &r);
    if (!d->registered_emp[cur]) cur = 0;
    int32_t start = grad + (int32_t)below(&r, 120);
    if (start > latest) start = latest;
    int32_t since = start + (int32_t)below(&r, (uint64_t)(latest - start) + 1);
    snprintf(t->employer, sizeof t->employer, "%s", d->employers[cur].credit_code);
    day_text(since, t->employed_since);
    snprintf(t->insurance_months, sizeof t->insurance_months, "%d",
             (int)months_between(since, d->as_of));
    t->owns_housing = "否";
}

void demo_talent(const demo *d, int64_t i, struct demo_talent *t)
{
    memset(t, 0, sizeof *t);
    if (i < d->p.applicants) {
        applicant_talent(d, i, t);
        return;
    }
    struct rng r = rng_for(d->p.seed, S_TALENT, (uint64_t)i);
    int32_t birth;
    int female, style;
    id_number(d, i, t, &birth, &female, &style);
    person_name(&r, female, style, t->name, sizeof t->name);
    int by, bm, bd;
    date_to_ymd(birth, &by, &bm, &bd);

    if (chance(&r, 970))
        snprintf(t->phone, sizeof t->phone, "%s%08llu", PICK(&r, mobile_prefixes),
                 (unsigned long long)feistel_at(&d->phone, (uint64_t)i));
    if (chance(&r, 900)) card_number(d, &r, i, t);

    /* Education, with a graduation date that fits the age: a degree the
     * person is too young to hold by DEMO_AS_OF becomes the one below. */
    static const char *const edu[] = {"其他", "本科", "硕士", "博士"};
    static const unsigned edu_share[] = {30, 500, 350, 120};
    static const int grad_age[] = {19, 22, 25, 28};
    static const int grad_jitter[] = {3, 2, 3, 4};
    size_t e = pick_weighted(&r, edu_share, COUNT(edu_share));
    int jitter = (int)below(&r, 1000);
    int32_t grad;
    for (;;) {
        int gy = by + grad_age[e] + jitter % grad_jitter[e];
        grad = date_from_ymd(gy, 6, 20) + (int32_t)(jitter % 12);
        if (grad <= d->as_of || e == 0) break;
        e--;
    }
    if (grad > d->as_of) grad = d->as_of - (int32_t)(jitter % 30);
    t->education = edu[e];
    day_text(grad, t->graduation_date);
    int age = (d->as_of - birth) / 365;

    /* Category and level. */
    unsigned lv = (unsigned)below(&r, 1000);
    t->category = "";
    if (lv < 20 + (e == 3) * 60) {
        t->level[0] = 'A';
    } else if (lv < 100 + (e >= 2) * 80) {
        t->level[0] = 'B';
    } else if (lv < 300) {
        t->level[0] = 'C';
    }
    if (t->level[0]) t->category = "光启人才";
    else if (t->foreign && chance(&r, 600)) t->category = "外籍高层次人才";
    else if (e == 3 && chance(&r, 150)) t->category = "海外高层次人才";
    else if (age < 30 && e >= 1 && chance(&r, 400)) t->category = "高校毕业生";
    else if (chance(&r, 100)) t->category = "紧缺急需人才";

    /* Employment, perhaps with an earlier employer. */
    int32_t insurance = 0;
    if (chance(&r, 940)) {
        int64_t cur = pick_employer(d, &r);
        int32_t start = grad + (int32_t)below(&r, 120);
        if (start > d->as_of) start = d->as_of;
        int32_t span = d->as_of - start;
        int32_t since;
        if (span >= 730 && chance(&r, 200) && d->p.employers > 1) {
            int64_t prev = pick_employer(d, &r);
            if (prev == cur) prev = (cur + 1) % d->p.employers;
            int32_t prev_since = start + (int32_t)below(&r, (uint64_t)span / 2);
            since = prev_since + 365 + (int32_t)below(&r, (uint64_t)(d->as_of - prev_since - 365) + 1);
            snprintf(t->previous_employer, sizeof t->previous_employer, "%s",
                     d->employers[prev].credit_code);
            day_text(prev_since, t->previous_since);
            if (d->registered_emp[prev]) insurance += months_between(prev_since, since);
        } else {
            since = start + (int32_t)below(&r, (uint64_t)span + 1);
        }
        snprintf(t->employer, sizeof t->employer, "%s", d->employers[cur].credit_code);
        day_text(since, t->employed_since);
        if (d->registered_emp[cur]) {
            insurance += months_between(since, d->as_of);
            if (chance(&r, 150)) insurance -= (int32_t)below(&r, 3);
        }
    }
    if (insurance < 0) insurance = 0;
    if (insurance > 1200) insurance = 1200;
    snprintf(t->insurance_months, sizeof t->insurance_months, "%d", (int)insurance);
    unsigned owns = age < 30 ? 80 : age < 40 ? 300 : 500;
    t->owns_housing = chance(&r, owns) ? "是" : "否";
    /* HOUSING: leases of talent apartments and market flats for some of the
     * talents who own no housing belong here, once the housing service is in. */
}

void demo_employer_input(const struct demo_employer *e, struct employer_input *in)
{
    in->credit_code = e->credit_code;
    in->name = e->name;
    in->industry = e->industry;
    in->registered = e->registered;
    in->taxed = e->taxed;
    in->key_enterprise = e->key_enterprise;
}

void demo_talent_input(const struct demo_talent *t, struct talent_input *in)
{
    *in = (struct talent_input){0}; /* fields the demo does not give: none */
    in->name = t->name;
    in->id_number = t->id_number;
    in->phone = t->phone;
    in->education = t->education;
    in->graduation_date = t->graduation_date;
    in->category = t->category;
    in->level = t->level;
    in->employer = t->employer;
    in->employed_since = t->employed_since;
    in->insurance_months = t->insurance_months;
    in->owns_housing = t->owns_housing;
    in->bank_account = t->bank_account;
}

/* ---- housing ---------------------------------------------------------- */

/* Roads the projects are on: road, district, its area code, and the
 * neighbourhood that names the estates. */
static const struct {
    const char *road, *district, *code, *near;
} roads[] = {
    {"钦州北路", "徐汇区", "310104", "漕河泾"}, {"虹漕路", "徐汇区", "310104", "漕河泾"},
    {"桂平路", "徐汇区", "310104", "漕河泾"},   {"田林路", "徐汇区", "310104", "田林"},
    {"宜山路", "徐汇区", "310104", "田林"},     {"柳州路", "徐汇区", "310104", "田林"},
    {"龙华中路", "徐汇区", "310104", "龙华"},   {"龙漕路", "徐汇区", "310104", "龙华"},
    {"云锦路", "徐汇区", "310104", "徐汇滨江"}, {"瑞宁路", "徐汇区", "310104", "徐汇滨江"},
    {"华泾路", "徐汇区", "310104", "华泾"},     {"龙吴路", "徐汇区", "310104", "华泾"},
    {"罗秀路", "徐汇区", "310104", "华泾"},     {"凌云路", "徐汇区", "310104", "凌云"},
    {"梅陇路", "徐汇区", "310104", "凌云"},     {"百色路", "徐汇区", "310104", "长桥"},
    {"罗城路", "徐汇区", "310104", "长桥"},     {"石龙路", "徐汇区", "310104", "长桥"},
    {"中山南二路", "徐汇区", "310104", "枫林"}, {"零陵路", "徐汇区", "310104", "枫林"},
    {"漕宝路", "徐汇区", "310104", "虹梅"},     {"虹梅路", "徐汇区", "310104", "虹梅"},
    {"康健路", "徐汇区", "310104", "康健"},     {"仙霞路", "长宁区", "310105", "仙霞"},
    {"天山路", "长宁区", "310105", "天山"},     {"金钟路", "长宁区", "310105", "北新泾"},
    {"七莘路", "闵行区", "310112", "七宝"},     {"莘松路", "闵行区", "310112", "莘庄"},
    {"虹梅南路", "闵行区", "310112", "梅陇"},
};
#define LANES 1500 /* lane numbers 1 to 1500 on each road */

/* Market rent in yuan per m² a month by district (lowest, highest). */
static void market_rate(const char *district, unsigned *lo, unsigned *hi)
{
    if (!strcmp(district, "长宁区")) *lo = 120, *hi = 160;
    else if (!strcmp(district, "闵行区")) *lo = 85, *hi = 115;
    else *lo = 130, *hi = 175;
}

static const char *const operator_suffixes[] = {"住房租赁有限公司", "公寓管理有限公司",
                                                "租赁住房运营有限公司", "安居服务有限公司",
                                                "房屋租赁有限公司"};
#define OPERATOR_BRAND_SPACE (BRAND_N * (BRAND_N - 1) * COUNT(operator_suffixes))

enum { K_TALENT, K_AFFORDABLE, K_MARKET };
static const char *const kind_zh[] = {"人才公寓", "保障性租赁住房", "市场化租赁住房"};
static const char *const market_estates[] = {"公寓", "雅苑", "花园", "新苑"};
static const char *const end_reasons[] = {"承租人提前退租", "承租人离职后退租",
                                          "承租人购房后退租", "双方协商解除"};

int64_t demo_operator_count(const demo *d)
{
    return d->noperators;
}

const struct demo_operator *demo_operator(const demo *d, int64_t i)
{
    return &d->operators[i];
}

int64_t demo_unit_count(const demo *d)
{
    return d->nunits;
}

int64_t demo_lease_count(const demo *d)
{
    return d->ntenants;
}

/* d plus months (the last day of a shorter month for a day it lacks). */
static int32_t add_months(int32_t day, int months)
{
    int y, m, dd;
    date_to_ymd(day, &y, &m, &dd);
    int total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    while (dd > 28 && !date_valid(y, m, dd)) dd--;
    return date_from_ymd(y, m, dd);
}

static void make_operator(demo *d, int64_t i, struct demo_operator *o)
{
    struct rng r = rng_for(d->p.seed, S_OPERATOR, (uint64_t)i);
    snprintf(o->code, sizeof o->code, "OP-%03d", (int)(i + 1));
    if (i == 0) {
        snprintf(o->name, sizeof o->name, "上海徐汇人才安居运营管理有限公司");
    } else {
        uint64_t b = feistel_at(&d->op_brand, (uint64_t)(i - 1));
        uint64_t v = b % COUNT(operator_suffixes), rest = b / COUNT(operator_suffixes);
        uint64_t first = rest % BRAND_N, second = rest / BRAND_N;
        if (second >= first) second++;
        snprintf(o->name, sizeof o->name, "上海%s%s%s", brand_chars[first], brand_chars[second],
                 operator_suffixes[v]);
    }
    /* Organization slots after the employers' (0 to employers - 2). */
    make_credit_code(d, (uint64_t)(d->p.employers - 1 + i), "310104", chance(&r, 700),
                     o->credit_code);
    int female = chance(&r, 500);
    person_name(&r, female, -1, o->contact_name, sizeof o->contact_name);
    snprintf(o->contact_phone, sizeof o->contact_phone, "021-%d%07d", chance(&r, 500) ? 5 : 6,
             (int)below(&r, 10000000));
}

/* What is planned for unit i: its status and leases (before tenants are
 * counted). */
struct unit_plan {
    int status; /* 0 listed, 1 draft, 2 withdrawn */
    int draft_code; /* a draft that has its verification code already */
    int current;    /* let now */
    int earlier;    /* earlier leases, 0 to 2 */
};

static struct unit_plan plan_unit(const demo *d, int64_t i)
{
    struct rng r = rng_for(d->p.seed, S_UNIT_PLAN, (uint64_t)i);
    struct unit_plan p = {0, 0, 0, 0};
    unsigned x = (unsigned)below(&r, 1000);
    if (x < 50) {
        p.status = 1;
        p.draft_code = chance(&r, 500);
    } else if (x < 80) {
        p.status = 2;
    } else {
        p.current = chance(&r, 800);
        static const unsigned earlier_share[] = {500, 350, 150};
        p.earlier = (int)pick_weighted(&r, earlier_share, COUNT(earlier_share));
    }
    return p;
}

/* Project p: its operator, kind, road and lane (a unique pair), estate name
 * and market rate. */
struct project {
    int64_t op;
    int kind;
    size_t road;
    unsigned lane;
    char estate[64];
    unsigned rate; /* yuan per m² a month for this kind */
};

static void make_project(const demo *d, int64_t p, struct project *pr)
{
    struct rng r = rng_for(d->p.seed, S_PROJECT, (uint64_t)p);
    /* The first projects go one to each operator, the rest mostly to the
     * talent-apartment operator (the first). */
    int anchor = chance(&r, 300);
    if (p < d->noperators) pr->op = p;
    else if (anchor) pr->op = 0;
    else pr->op = 1 + (int64_t)below(&r, (uint64_t)(d->noperators - 1));
    unsigned k = (unsigned)below(&r, 100);
    if (pr->op == 0) pr->kind = k < 80 ? K_TALENT : K_AFFORDABLE;
    else pr->kind = k < 45 ? K_MARKET : k < 80 ? K_AFFORDABLE : K_TALENT;
    uint64_t a = feistel_at(&d->address, (uint64_t)p);
    pr->road = (size_t)(a % COUNT(roads));
    pr->lane = (unsigned)(a / COUNT(roads)) + 1;
    uint64_t first = below(&r, BRAND_N), second = below(&r, BRAND_N - 1);
    if (second >= first) second++;
    const char *tail = pr->kind == K_TALENT       ? "人才公寓"
                       : pr->kind == K_AFFORDABLE ? "租赁社区"
                                                  : PICK(&r, market_estates);
    snprintf(pr->estate, sizeof pr->estate, "%s%s%s%s", roads[pr->road].near, brand_chars[first],
             brand_chars[second], tail);
    unsigned lo, hi;
    market_rate(roads[pr->road].district, &lo, &hi);
    unsigned market = lo + (unsigned)below(&r, hi - lo + 1);
    pr->rate = pr->kind == K_MARKET ? market : pr->kind == K_TALENT ? market * 75 / 100
                                                                   : market * 68 / 100;
}

/* The rent of an area (hundredths of m²) at rate, rounded to 10 yuan. */
static int64_t rent_for(int64_t area100, unsigned rate)
{
    return (area100 * rate + 500) / 1000 * 10;
}

/* Unit i with the figures the leases need. */
static void make_unit(const demo *d, int64_t i, struct demo_unit *u, int *kind, int64_t *rent)
{
    memset(u, 0, sizeof *u);
    int64_t p = i / d->project_size, k = i % d->project_size;
    struct project pr;
    make_project(d, p, &pr);
    struct rng r = rng_for(d->p.seed, S_UNIT, (uint64_t)i);
    u->operator_index = pr.op;
    u->district = roads[pr.road].district;
    /* building 1, 2, 3 ...; floors 2 to 6; four flats a floor */
    snprintf(u->address, sizeof u->address, "上海市%s%s%u弄%d号%d%02d室", roads[pr.road].district,
             roads[pr.road].road, pr.lane, (int)(k / 20 + 1), (int)(k % 20 / 4 + 2),
             (int)(k % 4 + 1));
    snprintf(u->community, sizeof u->community, "%s", pr.estate);
    /* Rooms and area (hundredths of m²) by kind. */
    static const struct {
        unsigned share;
        int rooms;
        int lo, hi; /* m² */
    } layouts[3][3] = {
        {{300, 0, 25, 38}, {500, 1, 38, 60}, {200, 2, 60, 85}},
        {{200, 0, 22, 35}, {500, 1, 35, 55}, {300, 2, 55, 80}},
        {{400, 1, 40, 70}, {400, 2, 65, 100}, {200, 3, 95, 140}},
    };
    unsigned shares[3] = {layouts[pr.kind][0].share, layouts[pr.kind][1].share,
                          layouts[pr.kind][2].share};
    size_t l = pick_weighted(&r, shares, 3);
    int64_t area100 = (int64_t)layouts[pr.kind][l].lo * 100 +
                      (int64_t)below(&r, (uint64_t)(layouts[pr.kind][l].hi - layouts[pr.kind][l].lo) * 100);
    snprintf(u->area, sizeof u->area, "%lld.%02lld", (long long)(area100 / 100),
             (long long)(area100 % 100));
    snprintf(u->rooms, sizeof u->rooms, "%d", layouts[pr.kind][l].rooms);
    /* within 5 % of the project's rate */
    unsigned rate = pr.rate * (95 + (unsigned)below(&r, 11)) / 100;
    *rent = rent_for(area100, rate);
    snprintf(u->rent, sizeof u->rent, "%lld", (long long)*rent);
    u->kind = kind_zh[pr.kind];
    *kind = pr.kind;
    struct unit_plan plan = plan_unit(d, i);
    u->status = plan.status == 1 ? "草稿" : plan.status == 2 ? "已下架" : "已发布";
    if (plan.status != 1 || plan.draft_code)
        snprintf(u->verification_code, sizeof u->verification_code, "%s25%08llu",
                 roads[pr.road].code,
                 (unsigned long long)feistel_at(&d->verification, (uint64_t)i));
}

void demo_unit(const demo *d, int64_t i, struct demo_unit *out)
{
    int kind;
    int64_t rent;
    make_unit(d, i, out, &kind, &rent);
}

static void yuan_text(int64_t yuan, char out[24])
{
    snprintf(out, 24, "%lld", (long long)yuan);
}

int demo_unit_leases(const demo *d, int64_t i, struct demo_lease out[DEMO_UNIT_LEASES_MAX])
{
    int64_t first = d->lease_first[i], planned = d->lease_first[i + 1] - first;
    int64_t n = d->ntenants - first;
    if (n > planned) n = planned;
    if (n <= 0) return 0;
    struct unit_plan plan = plan_unit(d, i);
    struct demo_unit u;
    int kind;
    int64_t rent;
    make_unit(d, i, &u, &kind, &rent);
    struct rng r = rng_for(d->p.seed, S_LEASE, (uint64_t)i);
    /* Backwards from now: the current lease, then each earlier one ending
     * before the next began. k = 0 is the newest. */
    int32_t start[DEMO_UNIT_LEASES_MAX], end[DEMO_UNIT_LEASES_MAX], ended[DEMO_UNIT_LEASES_MAX];
    int terminated[DEMO_UNIT_LEASES_MAX] = {0};
    int total = (int)planned, k = 0;
    int32_t boundary; /* the day the next lease began (or the unit fell vacant) */
    if (plan.current) {
        static const unsigned term_share[] = {450, 400, 150};
        int term = 12 * (1 + (int)pick_weighted(&r, term_share, COUNT(term_share)));
        int32_t span = d->as_of - add_months(d->as_of, -term) - 40;
        start[0] = d->as_of - 7 - (int32_t)below(&r, (uint64_t)span);
        end[0] = add_months(start[0], term) - 1;
        ended[0] = 0;
        boundary = start[0];
        k = 1;
    } else {
        boundary = d->as_of - (int32_t)below(&r, 180);
    }
    for (; k < total; k++) {
        int term = chance(&r, 700) ? 12 : 24;
        int32_t last = boundary - 1 - (int32_t)below(&r, 45); /* the day it ended */
        if (chance(&r, 200)) {
            int32_t full = add_months(last, term) - last;
            start[k] = last - 60 - (int32_t)below(&r, (uint64_t)(full - 90));
            end[k] = add_months(start[k], term) - 1;
            terminated[k] = 1;
        } else {
            start[k] = add_months(last + 1, -term);
            end[k] = last;
        }
        ended[k] = last;
        boundary = start[k];
    }
    /* Out oldest first; the first n of the planned ones have tenants. */
    for (int64_t j = 0; j < n; j++) {
        int kk = total - 1 - (int)j;
        struct demo_lease *l = &out[j];
        memset(l, 0, sizeof *l);
        int64_t number = first + j;
        l->tenant = d->tenants[number];
        struct demo_talent t;
        demo_talent(d, l->tenant, &t);
        memcpy(l->tenant_id_number, t.id_number, sizeof l->tenant_id_number);
        day_text(start[kk], l->start_date);
        day_text(end[kk], l->end_date);
        struct rng lr = rng_for(d->p.seed, S_LEASE, (uint64_t)(d->nunits + number));
        int32_t signed_on = start[kk] - (int32_t)below(&lr, 15);
        day_text(signed_on, l->signed_date);
        /* earlier leases a little cheaper: 4 % for each lease since */
        int64_t lease_rent = (rent * (100 - 4 * kk) + 50) / 100 / 10 * 10;
        yuan_text(lease_rent, l->rent);
        int months = kind == K_MARKET && chance(&lr, 500) ? 2 : 1;
        yuan_text(lease_rent * months, l->deposit);
        unsigned f = (unsigned)below(&lr, 1000);
        if (f < 880) {
            int32_t filed = signed_on + 1 + (int32_t)(f < 800 ? below(&lr, 25) : 30 + below(&lr, 40));
            if (filed > d->as_of) filed = d->as_of;
            if (filed < signed_on) filed = signed_on;
            day_text(filed, l->filed_date);
            int y, m, dd;
            date_to_ymd(signed_on, &y, &m, &dd);
            snprintf(l->filing_no, sizeof l->filing_no, "WQ%04d-%08llu", y,
                     (unsigned long long)feistel_at(&d->filing, (uint64_t)number));
        }
        if (ended[kk]) {
            day_text(ended[kk], l->ended_on);
            l->end_reason = terminated[kk] ? PICK(&lr, end_reasons) : "租期届满";
        }
    }
    return (int)n;
}

/* Sizes, permutations, the operators, and the tenants of the planned
 * leases: talents with an employer and no housing of their own, each
 * taken once, in the order of a permutation of all talents. */
static void housing_open(demo *d)
{
    uint64_t seed = d->p.seed;
    d->noperators = 3 + d->p.people / 50000;
    if (d->noperators > DEMO_OPERATORS_MAX) d->noperators = DEMO_OPERATORS_MAX;
    d->nunits = d->p.people / 16;
    int64_t size = d->nunits / (d->noperators * 3);
    d->project_size = size < 4 ? 4 : size > 60 ? 60 : size;
    feistel_init(&d->op_brand, OPERATOR_BRAND_SPACE, seed, P_OPERATOR_BRAND);
    feistel_init(&d->address, (uint64_t)COUNT(roads) * LANES, seed, P_ADDRESS);
    feistel_init(&d->verification, 100000000ull, seed, P_VERIFICATION);
    feistel_init(&d->filing, 100000000ull, seed, P_FILING);
    feistel_init(&d->tenant_perm, d->p.people ? (uint64_t)d->p.people : 1, seed, P_TENANT);

    d->operators = xcalloc((size_t)d->noperators, sizeof *d->operators);
    for (int64_t i = 0; i < d->noperators; i++) make_operator(d, i, &d->operators[i]);

    d->lease_first = xcalloc((size_t)d->nunits + 1, sizeof *d->lease_first);
    int64_t planned = 0;
    for (int64_t i = 0; i < d->nunits; i++) {
        d->lease_first[i] = planned;
        struct unit_plan p = plan_unit(d, i);
        planned += p.current + p.earlier;
    }
    d->lease_first[d->nunits] = planned;
    d->tenants = xcalloc((size_t)planned + 1, sizeof *d->tenants);
    for (int64_t k = 0; k < d->p.people && d->ntenants < planned; k++) {
        int64_t c = (int64_t)feistel_at(&d->tenant_perm, (uint64_t)k);
        struct demo_talent t;
        demo_talent(d, c, &t);
        if (t.employer[0] && !strcmp(t.owns_housing, "否")) d->tenants[d->ntenants++] = c;
    }
}

void demo_operator_input(const struct demo_operator *o, struct operator_input *in)
{
    memset(in, 0, sizeof *in);
    in->code = o->code;
    in->name = o->name;
    in->credit_code = o->credit_code;
    in->contact_name = o->contact_name;
    in->contact_phone = o->contact_phone;
}

void demo_unit_input(const demo *d, const struct demo_unit *u, struct unit_input *in)
{
    memset(in, 0, sizeof *in);
    in->operator = d->operators[u->operator_index].code;
    in->address = u->address;
    in->district = u->district;
    in->community = u->community;
    in->area = u->area;
    in->rooms = u->rooms;
    in->rent = u->rent;
    in->kind = u->kind;
    in->verification_code = u->verification_code;
    in->status = u->status;
}

void demo_lease_input(const struct demo_lease *l, const char *unit_id, struct lease_input *in)
{
    memset(in, 0, sizeof *in);
    in->talent_id_number = l->tenant_id_number;
    in->unit_id = unit_id;
    in->start_date = l->start_date;
    in->end_date = l->end_date;
    in->signed_date = l->signed_date;
    in->rent = l->rent;
    in->deposit = l->deposit;
    in->filing_no = l->filing_no;
    in->filed_date = l->filed_date;
}
