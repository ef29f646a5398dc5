"""The demo's words in Hindi and Arabic: search synonyms and translated listings.

`seed_demo` loads `DEMO_SYNONYMS` (staff then edit them in the admin, or
replace them with `import_dataset --synonyms`) and gives the demo's sarees
and kurtas a Hindi and an Arabic title and description (`listing_translations`),
so a shopper reading Hindi sees "बनारसी साड़ी, मैरून" and the other categories
show the fallback: the listing as written.

Every concept lists what shoppers type: the English word and its plurals,
Hinglish spellings in Latin letters ("saadi", "kadhai"), the Devanagari and
the Arabic-script word with its common variants ("साड़ी" / "साडी", "ساري" /
"ساريه"). Words are single words (catalog.search matches each word of a
query and its synonyms by prefix).
"""

from __future__ import annotations

# (concept, language, words)
DEMO_SYNONYMS: list[tuple[str, str, str]] = [
    ("saree", "en", "saree, sari, sarees, saris, saadi, sadi, saari, sarree"),
    ("saree", "hi", "साड़ी, साडी, सारी, साड़ियां, साड़ियाँ"),
    ("saree", "ar", "ساري, ساريه, سارى"),
    ("kurta", "en", "kurta, kurti, kurtas, kurtis, kurtaa, kurtha"),
    ("kurta", "hi", "कुर्ता, कुरता, कुर्ती, कुरती, कुर्ते"),
    ("kurta", "ar", "كورتا, كرتة, كورتي, كرتا"),
    ("silk", "en", "silk, resham, reshmi"),
    ("silk", "hi", "सिल्क, रेशम, रेशमी"),
    ("silk", "ar", "حرير, حريري"),
    ("cotton", "en", "cotton, sooti, suti"),
    ("cotton", "hi", "कॉटन, सूती"),
    ("cotton", "ar", "قطن, قطني"),
    ("women", "en", "women, womens, ladies, female"),
    ("women", "hi", "महिला, महिलाओं, लेडीज़, लेडीज"),
    ("women", "ar", "نساء, نسائي, حريمي"),
    ("men", "en", "men, mens, gents"),
    ("men", "hi", "पुरुष, पुरुषों, जेंट्स"),
    ("men", "ar", "رجال, رجالي"),
    ("wedding", "en", "wedding, weddings, shaadi, shadi"),
    ("wedding", "hi", "शादी, विवाह"),
    ("wedding", "ar", "زفاف, عرس"),
    ("phone", "en", "phone, mobile, smartphone"),
    ("phone", "hi", "फोन, फ़ोन, मोबाइल"),
    ("phone", "ar", "هاتف, جوال, موبايل"),
    ("case", "en", "case, cases, cover, covers"),
    ("case", "hi", "कवर, केस"),
    ("case", "ar", "جراب, غطاء, كفر"),
    ("charger", "en", "charger, chargers, adapter, adaptor"),
    ("charger", "hi", "चार्जर, चार्ज़र"),
    ("charger", "ar", "شاحن"),
    ("cable", "en", "cable, wire"),
    ("cable", "hi", "केबल, तार"),
    ("cable", "ar", "كابل, سلك"),
    ("kadai", "en", "kadai, kadhai, karahi, kadhi, wok"),
    ("kadai", "hi", "कड़ाही, कढ़ाई, कड़ाई, कढ़ाही"),
    ("kadai", "ar", "مقلاة"),
    ("tawa", "en", "tawa, tava, griddle"),
    ("tawa", "hi", "तवा"),
    ("tawa", "ar", "صاج"),
    ("cooker", "en", "cooker, cookers"),
    ("cooker", "hi", "कुकर"),
    ("cooker", "ar", "طنجرة"),
    ("container", "en", "container, containers, dabba, dabbas, box"),
    ("container", "hi", "डब्बा, डिब्बा, कंटेनर"),
    ("container", "ar", "علبة, حاوية"),
    ("bottle", "en", "bottle, bottles"),
    ("bottle", "hi", "बोतल"),
    ("bottle", "ar", "زجاجة, قارورة, مطارة"),
    ("cream", "en", "moisturiser, moisturizer, cream, lotion"),
    ("cream", "hi", "मॉइस्चराइज़र, क्रीम, लोशन"),
    ("cream", "ar", "مرطب, كريم, لوشن"),
    ("sunscreen", "en", "sunscreen, sunblock"),
    ("sunscreen", "hi", "सनस्क्रीन"),
    ("sunscreen", "ar", "واقي"),
    ("masala", "en", "masala, spice, spices"),
    ("masala", "hi", "मसाला, मसाले"),
    ("masala", "ar", "بهارات, توابل"),
    ("turmeric", "en", "turmeric, haldi"),
    ("turmeric", "hi", "हल्दी"),
    ("turmeric", "ar", "كركم"),
    ("chilli", "en", "chilli, chili, mirchi, mirch"),
    ("chilli", "hi", "मिर्च, मिर्ची"),
    ("chilli", "ar", "فلفل, شطة"),
    ("jeera", "en", "jeera, zeera, cumin"),
    ("jeera", "hi", "जीरा"),
    ("jeera", "ar", "كمون"),
    ("elaichi", "en", "elaichi, ilaichi, cardamom"),
    ("elaichi", "hi", "इलायची"),
    ("elaichi", "ar", "هيل, هال"),
    ("toy", "en", "toy, toys, khilona, khilone"),
    ("toy", "hi", "खिलौना, खिलौने"),
    ("toy", "ar", "لعبة, ألعاب"),
    ("teddy", "en", "teddy"),
    ("teddy", "hi", "टेडी"),
    ("teddy", "ar", "دبدوب"),
]

_COLOURS = {
    "indigo": ("नील", "نيلي"), "maroon": ("मैरून", "عنابي"), "mustard": ("सरसों पीला", "خردلي"),
    "teal": ("टील", "أزرق مخضر"), "rani pink": ("रानी गुलाबी", "وردي فاقع"),
    "parrot green": ("तोता हरा", "أخضر فاتح"), "off-white": ("ऑफ़-व्हाइट", "أبيض مكسور"),
    "black": ("काला", "أسود"), "peach": ("आड़ू", "خوخي"), "navy": ("नेवी ब्लू", "كحلي"),
    "olive": ("जैतूनी", "زيتوني"), "coral": ("कोरल", "مرجاني"), "sky blue": ("आसमानी", "سماوي"),
    "lavender": ("लैवेंडर", "لافندر"), "rust": ("जंग लाल", "صدئي"),
}

# Per category: adjectives and nouns as (Hindi, Arabic), and the description
# with {colour}. Arabic puts the adjective after the noun.
_LISTINGS = {
    "sarees": {
        "adjectives": {
            "Banarasi": ("बनारसी", "بنارسي"), "Kanjeevaram": ("कांजीवरम", "كانجيفارام"),
            "Chanderi": ("चंदेरी", "تشانديري"), "Georgette": ("जॉर्जेट", "جورجيت"),
            "Cotton silk": ("कॉटन सिल्क", "قطن وحرير"), "Tussar": ("टसर", "توسار"),
            "Chiffon": ("शिफॉन", "شيفون"), "Bandhani": ("बांधनी", "باندهاني"),
        },
        "nouns": {
            "saree": ("साड़ी", "ساري"),
            "saree with blouse piece": ("ब्लाउज़ पीस के साथ साड़ी", "ساري مع قطعة بلوزة"),
            "silk saree": ("सिल्क साड़ी", "ساري حرير"),
            "party wear saree": ("पार्टी वियर साड़ी", "ساري للحفلات"),
        },
        "description": (
            "{colour} रंग की साड़ी, बुने हुए बॉर्डर के साथ। 5.5 मीटर साड़ी और 0.8 मीटर "
            "ब्लाउज़ पीस। कैश ऑन डिलीवरी उपलब्ध।",
            "ساري بلون {colour} بحافة منسوجة. ساري بطول 5.5 م مع قطعة بلوزة 0.8 م. "
            "الدفع عند الاستلام متاح.",
        ),
    },
    "kurtas": {
        "adjectives": {
            "Chikankari": ("चिकनकारी", "تشيكانكاري"), "Block-print": ("ब्लॉक प्रिंट", "بطباعة يدوية"),
            "Khadi": ("खादी", "خادي"), "Embroidered": ("कढ़ाईदार", "مطرز"),
            "Bandhani": ("बांधनी", "باندهاني"), "Handloom": ("हथकरघा", "منسوج يدويًا"),
            "Printed": ("प्रिंटेड", "مطبوع"), "Pintuck": ("पिनटक", "بثنيات"),
        },
        "nouns": {
            "cotton kurta": ("सूती कुर्ता", "كورتا قطن"),
            "straight kurta": ("स्ट्रेट कुर्ता", "كورتا مستقيمة"),
            "A-line kurti": ("ए-लाइन कुर्ती", "كورتي بقصة واسعة"),
            "kurta with pants": ("पैंट के साथ कुर्ता", "كورتا مع بنطال"),
            "rayon kurti": ("रेयॉन कुर्ती", "كورتي رايون"),
            "linen kurta": ("लिनन कुर्ता", "كورتا كتان"),
        },
        "description": (
            "मुलायम {colour} कपड़ा, लंबी गर्मियों में भी ठंडा। मशीन में धो सकते हैं। "
            "कैश ऑन डिलीवरी उपलब्ध।",
            "قماش ناعم بلون {colour} يبقى باردًا في أيام الصيف الطويلة. يغسل في الغسالة. "
            "الدفع عند الاستلام متاح.",
        ),
    },
}


def listing_translations(*, category: str, adjective: str, noun: str,
                         colour: str) -> dict[str, str]:
    """Return a demo listing's Hindi and Arabic title and description ({} if none)."""
    words = _LISTINGS.get(category)
    if words is None or adjective not in words["adjectives"] or noun not in words["nouns"]:
        return {}
    adj_hi, adj_ar = words["adjectives"][adjective]
    noun_hi, noun_ar = words["nouns"][noun]
    colour_hi, colour_ar = _COLOURS.get(colour, (colour, colour))
    text_hi, text_ar = words["description"]
    return {
        "title_hi": f"{adj_hi} {noun_hi}, {colour_hi}",
        "title_ar": f"{noun_ar} {adj_ar}، {colour_ar}",
        "description_hi": text_hi.format(colour=colour_hi),
        "description_ar": text_ar.format(colour=colour_ar),
    }
