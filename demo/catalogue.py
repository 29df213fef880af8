"""The demo catalogue: categories, facilities, rooms, bands, fees, equipment, notices."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy.orm import Session

from models.account import GroupClass
from models.facility import (
    ClosedDate,
    EquipmentItem,
    Facility,
    FacilityCategory,
    FeeRate,
    Purpose,
    RefundBand,
    Room,
    RoomType,
    TimeBand,
)
from models.notice import Notice

# カテゴリから探す, in the guide's order (§5-2 ②): code, ja, en, registration kind.
CATEGORIES = [
    ("sports", "スポーツ施設", "Sports facilities", "sports"),
    ("culture", "社会教育・文化会館・青少年プラザ", "Community education and culture halls, Youth Plaza", "assembly"),
    ("sme", "中小企業センター", "Small Business Centre", "assembly"),
    ("labour", "勤労福祉会館", "Workers' Welfare Hall", "assembly"),
    ("consumer", "消費生活センター", "Consumer Affairs Centre", "assembly"),
    ("seniors", "高齢者センター", "Seniors' Centre", "assembly"),
    ("hall", "文化ホール", "Culture hall", "assembly"),
    ("equality", "男女平等・共同参画センター", "Gender Equality Centre", "assembly"),
    ("disability", "心身障害者センター", "Centre for People with Disabilities", "assembly"),
    ("community", "住区会議室", "Community centre meeting rooms", "assembly"),
    ("ikoi", "いこいの家", "Ikoi-no-ie (senior lounges)", "assembly"),
    ("school", "学校施設", "School facilities", "assembly"),
]

# DESIGN rule 12, the same table for every facility type in the demo.
REFUND_TABLE = [(21, 100), (11, 75), (6, 50), (0, 0)]

ROOM_TYPES = [
    ("meeting", "会議室", "Meeting room"),
    ("seminar", "研修室", "Seminar room"),
    ("japanese", "和室", "Japanese-style room"),
    ("hall", "ホール", "Hall"),
    ("arena", "体育館・競技場", "Gymnasium"),
]

PURPOSES = [
    ("meeting", "会議・打合せ", "Meetings"),
    ("ceremony", "大会・式典", "Conventions and ceremonies"),
    ("lecture", "講演・研修", "Lectures and training"),
    ("hobby", "趣味・サークル活動", "Hobbies and club activities"),
    ("music", "音楽・演奏", "Music"),
    ("ballgame", "球技", "Ball games"),
    ("dance", "体操・ダンス", "Exercise and dance"),
]

# code, ja, en, 社会教育関係団体 (may enter the lottery, DESIGN "Lottery": Who)
GROUP_CLASSES = [
    ("adult", "社成人", "Adult group", True),
    ("youth", "社青少年", "Youth group", True),
    ("welfare", "福祉団体", "Welfare group", False),
]
# DESIGN "Lottery": the rooms the demo draws by lottery (its months, demo.seed); 702 and 201,
# the guide's rooms, stay first come.
LOTTERY_ROOMS = ("sme_hall", "kumin_701", "komaba_washitsu")

ASSEMBLY_BANDS = [(time(9), time(12)), (time(12, 30), time(15)), (time(15, 30), time(18)), (time(18, 30), time(21, 30))]
SPORTS_BANDS = [
    (time(9), time(11)),
    (time(11), time(13)),
    (time(13), time(15)),
    (time(15), time(17)),
    (time(17), time(19)),
    (time(19), time(21)),
]

# §5-2 ④: the twelve items of 区民センター社会教育館.
EQUIPMENT_039 = [
    (
        "プロジェクター",
        "Projector",
        "接続ケーブルは各施設にお問い合わせください",
        "Ask the facility about connection cables",
        500,
        9,
        "台",
        "units",
    ),
    ("DVDモニターセット", "DVD monitor set", "", "", 800, 1, "台", "units"),
    ("CDラジカセ", "CD radio cassette player", "", "", 0, 2, "台", "units"),
    ("譜面台", "Music stand", "", "", 0, 22, "台", "units"),
    ("姿見", "Full-length mirror", "", "", 0, 2, "枚", "pieces"),
    ("移動スクリーン", "Mobile screen", "", "", 0, 1, "面", "screens"),
    ("イーゼル", "Easel", "", "", 0, 22, "台", "units"),
    ("囲碁用具", "Go set", "", "", 0, 13, "式", "sets"),
    ("花器一式", "Flower vase set", "", "", 0, 1, "式", "sets"),
    ("マイクセット", "Microphone set", "", "", 0, 1, "式", "sets"),
    ("ミシン", "Sewing machine", "", "", 0, 3, "台", "units"),
    ("アイロン", "Iron", "", "", 0, 4, "台", "units"),
]


def _nth_weekdays(start: date, end: date, weekday: int, nths: tuple[int, ...]) -> list[date]:
    days, d = [], start
    while d <= end:
        if d.weekday() == weekday and (d.day - 1) // 7 + 1 in nths:
            days.append(d)
        d += timedelta(days=1)
    return days


def _year_end(start: date, end: date) -> list[date]:
    days, d = [], start
    while d <= end:
        if (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3):
            days.append(d)
        d += timedelta(days=1)
    return days


def seed_catalogue(session: Session, today: date) -> dict[str, object]:
    """Create the catalogue; returns the objects the bookings need, by short name."""
    categories = {}
    for i, (code, ja, en, kind) in enumerate(CATEGORIES):
        cat = FacilityCategory(
            code=code, name_ja=ja, name_en=en, registration_kind=kind, lends_equipment=kind == "assembly", ordinal=i
        )
        cat.refund_bands = [RefundBand(min_days_before=d, percent=p) for d, p in REFUND_TABLE]
        categories[code] = cat
    session.add_all(categories.values())
    room_types = {
        code: RoomType(code=code, name_ja=ja, name_en=en, ordinal=i) for i, (code, ja, en) in enumerate(ROOM_TYPES)
    }
    purposes = {
        code: Purpose(code=code, name_ja=ja, name_en=en, ordinal=i) for i, (code, ja, en) in enumerate(PURPOSES)
    }
    classes = {
        code: GroupClass(code=code, name_ja=ja, name_en=en, is_social_education=social)
        for code, ja, en, social in GROUP_CLASSES
    }
    session.add_all([*room_types.values(), *purposes.values(), *classes.values()])

    horizon_start, horizon_end = today - timedelta(days=60), today + timedelta(days=400)
    assembly_closed = sorted(
        set(_nth_weekdays(horizon_start, horizon_end, 0, (2, 4)) + _year_end(horizon_start, horizon_end))
    )

    def facility(
        code,
        ja,
        en,
        kana,
        cat,
        phone,
        contact_ja,
        contact_en,
        addr_ja,
        addr_en,
        access_ja,
        access_en,
        closed_weekdays="",
        closed=(),
    ):
        f = Facility(
            code=code,
            name_ja=ja,
            name_en=en,
            kana=kana,
            category=categories[cat],
            phone=phone,
            contact_name_ja=contact_ja,
            contact_name_en=contact_en,
            address_ja=addr_ja,
            address_en=addr_en,
            access_ja=access_ja,
            access_en=access_en,
            closed_weekdays=closed_weekdays,
        )
        f.closed_dates = [ClosedDate(day=d) for d in closed]
        session.add(f)
        return f

    def room(f, ja, en, rtype, capacity, purpose_codes, bands, fees, ordinal=0):
        r = Room(facility=f, name_ja=ja, name_en=en, room_type=room_types[rtype], capacity=capacity, ordinal=ordinal)
        r.purposes = [purposes[c] for c in purpose_codes]
        r.time_bands = [TimeBand(starts_at=s, ends_at=e) for s, e in bands]
        session.add(r)
        session.flush()
        for band, amount in zip(r.time_bands, fees):
            session.add(FeeRate(room_id=r.id, time_band_id=band.id, amount_yen=amount))
        return r

    komaba = facility(
        "013",
        "駒場住区センター",
        "Komaba Community Centre",
        "こまばじゅうくせんたー",
        "community",
        "03-3469-2613",
        "駒場住区会議室",
        "Komaba community meeting rooms",
        "東京都目黒区駒場一丁目22番1号",
        "1-22-1 Komaba, Meguro-ku, Tokyo",
        "京王井の頭線「駒場東大前」駅から徒歩7分。駐車場はありません。",
        "7 minutes' walk from Komaba-todaimae Station (Keio Inokashira Line). No parking.",
        closed=assembly_closed,
    )
    kumin = facility(
        "039",
        "区民センター社会教育館",
        "Kumin Centre Community Education Hall",
        "くみんせんたーしゃかいきょういくかん",
        "culture",
        "03-3711-1134",
        "区民センター社会教育館",
        "Community Education Hall reception",
        "東京都目黒区目黒二丁目4番36号",
        "2-4-36 Meguro, Meguro-ku, Tokyo",
        "東急目黒線「不動前」駅から徒歩10分、JR「目黒」駅から徒歩15分。車椅子用エレベーターがあります。",
        "10 minutes' walk from Fudo-mae Station (Tokyu Meguro Line), 15 minutes from JR Meguro Station. Wheelchair-accessible lift.",
        closed=assembly_closed,
    )
    nakameguro = facility(
        "014",
        "中目黒住区センター",
        "Nakameguro Community Centre",
        "なかめぐろじゅうくせんたー",
        "community",
        "03-3719-1355",
        "中目黒住区会議室",
        "Nakameguro community meeting rooms",
        "東京都目黒区中目黒三丁目1番7号",
        "3-1-7 Nakameguro, Meguro-ku, Tokyo",
        "東急東横線・東京メトロ日比谷線「中目黒」駅から徒歩8分。",
        "8 minutes' walk from Naka-meguro Station (Tokyu Toyoko Line, Tokyo Metro Hibiya Line).",
        closed=assembly_closed,
    )
    sme = facility(
        "051",
        "中小企業センター",
        "Small Business Centre",
        "ちゅうしょうきぎょうせんたー",
        "sme",
        "03-3711-1131",
        "中小企業センター",
        "Small Business Centre reception",
        "東京都目黒区目黒二丁目4番36号",
        "2-4-36 Meguro, Meguro-ku, Tokyo",
        "区民センター内。東急目黒線「不動前」駅から徒歩10分。",
        "Inside the Kumin Centre. 10 minutes' walk from Fudo-mae Station.",
        closed=assembly_closed,
    )
    ikoi = facility(
        "081",
        "東山いこいの家",
        "Higashiyama Ikoi-no-ie",
        "ひがしやまいこいのいえ",
        "ikoi",
        "03-3792-0561",
        "東山いこいの家",
        "Higashiyama Ikoi-no-ie",
        "東京都目黒区東山二丁目24番19号",
        "2-24-19 Higashiyama, Meguro-ku, Tokyo",
        "東急田園都市線「池尻大橋」駅から徒歩12分。",
        "12 minutes' walk from Ikejiri-ohashi Station (Tokyu Den-en-toshi Line).",
        closed_weekdays="6",
        closed=_year_end(horizon_start, horizon_end),
    )
    gym = facility(
        "061",
        "目黒区民センター体育館",
        "Meguro Kumin Centre Gymnasium",
        "めぐろくみんせんたーたいいくかん",
        "sports",
        "03-3711-1136",
        "区民センター体育館",
        "Gymnasium reception",
        "東京都目黒区目黒二丁目4番36号",
        "2-4-36 Meguro, Meguro-ku, Tokyo",
        "東急目黒線「不動前」駅から徒歩10分。当日は身分証明書をお持ちください。",
        "10 minutes' walk from Fudo-mae Station. Bring identification on the day.",
        closed_weekdays="3",
        closed=_year_end(horizon_start, horizon_end),
    )

    rooms = {
        "komaba_201": room(
            komaba,
            "201【旧第1会議室】",
            "201 (former Meeting Room 1)",
            "meeting",
            30,
            ["meeting", "ceremony", "lecture", "hobby"],
            ASSEMBLY_BANDS,
            [400, 400, 500, 600],
            0,
        ),
        "komaba_202": room(
            komaba,
            "202【旧第2会議室】",
            "202 (former Meeting Room 2)",
            "meeting",
            18,
            ["meeting", "hobby"],
            ASSEMBLY_BANDS,
            [300, 300, 400, 400],
            1,
        ),
        "komaba_washitsu": room(
            komaba,
            "和室",
            "Japanese-style room",
            "japanese",
            15,
            ["meeting", "hobby"],
            ASSEMBLY_BANDS,
            [300, 300, 300, 300],
            2,
        ),
        "kumin_701": room(
            kumin,
            "701【旧第1研修室】",
            "701 (former Seminar Room 1)",
            "seminar",
            60,
            ["meeting", "ceremony", "lecture", "music"],
            ASSEMBLY_BANDS,
            [900, 900, 900, 1100],
            0,
        ),
        "kumin_702": room(
            kumin,
            "702【旧第2研修室】",
            "702 (former Seminar Room 2)",
            "seminar",
            40,
            ["meeting", "ceremony", "lecture", "hobby"],
            ASSEMBLY_BANDS,
            [700, 700, 700, 700],
            1,
        ),
        "nakameguro_1": room(
            nakameguro,
            "第1会議室",
            "Meeting Room 1",
            "meeting",
            24,
            ["meeting", "hobby", "lecture"],
            ASSEMBLY_BANDS,
            [400, 400, 400, 500],
            0,
        ),
        "sme_hall": room(
            sme,
            "ホール",
            "Hall",
            "hall",
            120,
            ["ceremony", "lecture", "music", "dance"],
            ASSEMBLY_BANDS,
            [1500, 1500, 1800, 2000],
            0,
        ),
        "ikoi_washitsu": room(
            ikoi,
            "大広間",
            "Large tatami room",
            "japanese",
            20,
            ["hobby", "meeting"],
            ASSEMBLY_BANDS[:3],
            [300, 300, 300],
            0,
        ),
        "gym_a": room(
            gym, "競技場A面", "Arena court A", "arena", 60, ["ballgame", "dance"], SPORTS_BANDS, [1200] * 6, 0
        ),
        "gym_b": room(
            gym, "競技場B面", "Arena court B", "arena", 60, ["ballgame", "dance"], SPORTS_BANDS, [1200] * 6, 1
        ),
    }
    for i, (ja, en, note_ja, note_en, price, stock, unit_ja, unit_en) in enumerate(EQUIPMENT_039):
        kumin.equipment_items.append(
            EquipmentItem(
                name_ja=ja,
                name_en=en,
                note_ja=note_ja,
                note_en=note_en,
                price_yen=price,
                stock=stock,
                unit_ja=unit_ja,
                unit_en=unit_en,
                ordinal=i,
            )
        )

    notices = [
        (
            3,
            "年末年始（12月29日～1月3日）は全施設が休館します",
            "All facilities are closed over the New Year holidays (29 December to 3 January)",
        ),
        (
            12,
            "令和9年4月からスポーツ施設の貸切使用料が変わります",
            "Fees for exclusive use of sports facilities change from April 2027",
        ),
        (30, "東山いこいの家は毎週日曜日が休館日です", "Higashiyama Ikoi-no-ie is closed every Sunday"),
        (
            45,
            "令和9年4月から貸室の団体登録制度や使用料が変わります",
            "Group registration and room fees change from April 2027",
        ),
        (60, "中目黒住区センターのエレベーター点検のお知らせ", "Lift inspection at Nakameguro Community Centre"),
        (90, "オンラインクレジット決済がご利用いただけます", "Online card payment is now available"),
    ]
    for days_ago, ja, en in notices:
        session.add(
            Notice(
                published_on=today - timedelta(days=days_ago),
                title_ja=ja,
                title_en=en,
                body_ja=ja + "。詳しくは各施設にお問い合わせください。",
                body_en=en + ". Please ask the facility for details.",
            )
        )

    session.flush()
    return {
        "rooms": rooms,
        "classes": classes,
        "purposes": purposes,
        "facilities": {"komaba": komaba, "kumin": kumin, "gym": gym},
    }
