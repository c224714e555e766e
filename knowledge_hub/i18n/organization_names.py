"""The names of the Task Force's members and observers in the six UN languages, so that
a record tagged ILO is found by "OIT", "МОТ" or "国际劳工组织" as well as by "ILO".

Names are the official ones of the UN terminology (UNTERM) where the organization has
them; an observer without official names in a language has none here. Each language
lists the full name first, then the acronyms used in that language. Keys are the
acronyms the hub's organizations are stored under (seed.py, the demo catalogue).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache

#: Acronym -> language -> (official name, acronyms in that language...).
ORGANIZATION_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "ILO": {
        "en": ("International Labour Organization", "ILO"),
        "fr": ("Organisation internationale du Travail", "OIT"),
        "es": ("Organización Internacional del Trabajo", "OIT"),
        "ru": ("Международная организация труда", "МОТ"),
        "ar": ("منظمة العمل الدولية",),
        "zh": ("国际劳工组织", "劳工组织"),
    },
    "UNCTAD": {
        "en": ("United Nations Conference on Trade and Development", "UNCTAD"),
        "fr": ("Conférence des Nations Unies sur le commerce et le développement", "CNUCED"),
        "es": ("Conferencia de las Naciones Unidas sobre Comercio y Desarrollo", "UNCTAD"),
        "ru": ("Конференция Организации Объединенных Наций по торговле и развитию", "ЮНКТАД"),
        "ar": ("مؤتمر الأمم المتحدة للتجارة والتنمية", "الأونكتاد"),
        "zh": ("联合国贸易和发展会议", "贸发会议"),
    },
    "UNRISD": {
        "en": ("United Nations Research Institute for Social Development", "UNRISD"),
        "fr": ("Institut de recherche des Nations Unies pour le développement social", "UNRISD"),
        "es": (
            "Instituto de Investigaciones de las Naciones Unidas para el Desarrollo Social",
            "UNRISD",
        ),
        "ru": (
            "Научно-исследовательский институт социального развития Организации Объединенных Наций",
            "ЮНРИСД",
        ),
        "ar": ("معهد الأمم المتحدة لبحوث التنمية الاجتماعية",),
        "zh": ("联合国社会发展研究所", "社发所"),
    },
    "UNDP": {
        "en": ("United Nations Development Programme", "UNDP"),
        "fr": ("Programme des Nations Unies pour le développement", "PNUD"),
        "es": ("Programa de las Naciones Unidas para el Desarrollo", "PNUD"),
        "ru": ("Программа развития Организации Объединенных Наций", "ПРООН"),
        "ar": ("برنامج الأمم المتحدة الإنمائي",),
        "zh": ("联合国开发计划署", "开发署"),
    },
    "UN DESA": {
        "en": ("Department of Economic and Social Affairs", "UN DESA", "DESA"),
        "fr": ("Département des affaires économiques et sociales", "DAES"),
        "es": ("Departamento de Asuntos Económicos y Sociales", "DAES"),
        "ru": ("Департамент по экономическим и социальным вопросам", "ДЭСВ"),
        "ar": ("إدارة الشؤون الاقتصادية والاجتماعية",),
        "zh": ("经济和社会事务部", "经社部"),
    },
    "ECLAC": {
        "en": ("Economic Commission for Latin America and the Caribbean", "ECLAC"),
        "fr": ("Commission économique pour l'Amérique latine et les Caraïbes", "CEPALC"),
        "es": ("Comisión Económica para América Latina y el Caribe", "CEPAL"),
        "ru": ("Экономическая комиссия для Латинской Америки и Карибского бассейна", "ЭКЛАК"),
        "ar": ("اللجنة الاقتصادية لأمريكا اللاتينية ومنطقة البحر الكاريبي",),
        "zh": ("拉丁美洲和加勒比经济委员会", "拉加经委会"),
    },
    "ESCAP": {
        "en": ("Economic and Social Commission for Asia and the Pacific", "ESCAP"),
        "fr": ("Commission économique et sociale pour l'Asie et le Pacifique", "CESAP"),
        "es": ("Comisión Económica y Social para Asia y el Pacífico", "CESPAP"),
        "ru": ("Экономическая и социальная комиссия для Азии и Тихого океана", "ЭСКАТО"),
        "ar": ("اللجنة الاقتصادية والاجتماعية لآسيا والمحيط الهادئ", "الإسكاب"),
        "zh": ("亚洲及太平洋经济社会委员会", "亚太经社会"),
    },
    "OECD": {
        "en": ("Organisation for Economic Co-operation and Development", "OECD"),
        "fr": ("Organisation de coopération et de développement économiques", "OCDE"),
        "es": ("Organización para la Cooperación y el Desarrollo Económicos", "OCDE"),
        "ru": ("Организация экономического сотрудничества и развития", "ОЭСР"),
        "ar": ("منظمة التعاون والتنمية في الميدان الاقتصادي",),
        "zh": ("经济合作与发展组织", "经合组织"),
    },
    "UNHCR": {
        "en": ("Office of the United Nations High Commissioner for Refugees", "UNHCR"),
        "fr": ("Haut-Commissariat des Nations Unies pour les réfugiés", "HCR"),
        "es": (
            "Oficina del Alto Comisionado de las Naciones Unidas para los Refugiados",
            "ACNUR",
        ),
        "ru": (
            "Управление Верховного комиссара Организации Объединенных Наций по делам беженцев",
            "УВКБ",
        ),
        "ar": ("مفوضية الأمم المتحدة لشؤون اللاجئين",),
        "zh": ("联合国难民事务高级专员办事处", "难民署"),
    },
    "WHO": {
        "en": ("World Health Organization", "WHO"),
        "fr": ("Organisation mondiale de la Santé", "OMS"),
        "es": ("Organización Mundial de la Salud", "OMS"),
        "ru": ("Всемирная организация здравоохранения", "ВОЗ"),
        "ar": ("منظمة الصحة العالمية",),
        "zh": ("世界卫生组织", "世卫组织"),
    },
    "FAO": {
        "en": ("Food and Agriculture Organization of the United Nations", "FAO"),
        "fr": ("Organisation des Nations Unies pour l'alimentation et l'agriculture", "FAO"),
        "es": (
            "Organización de las Naciones Unidas para la Alimentación y la Agricultura",
            "FAO",
        ),
        "ru": ("Продовольственная и сельскохозяйственная организация Объединенных Наций", "ФАО"),
        "ar": ("منظمة الأغذية والزراعة للأمم المتحدة", "الفاو"),
        "zh": ("联合国粮食及农业组织", "粮农组织"),
    },
    "UN Women": {
        "en": (
            "United Nations Entity for Gender Equality and the Empowerment of Women",
            "UN Women",
        ),
        "fr": (
            "Entité des Nations Unies pour l'égalité des sexes et l'autonomisation des femmes",
            "ONU-Femmes",
        ),
        "es": (
            "Entidad de las Naciones Unidas para la Igualdad de Género y el Empoderamiento "
            "de las Mujeres",
            "ONU-Mujeres",
        ),
        "ru": (
            "Структура Организации Объединенных Наций по вопросам гендерного равенства и "
            "расширения прав и возможностей женщин",
            "Структура «ООН-женщины»",
        ),
        "ar": (
            "هيئة الأمم المتحدة للمساواة بين الجنسين وتمكين المرأة",
            "هيئة الأمم المتحدة للمرأة",
        ),
        "zh": ("联合国促进性别平等和增强妇女权能署", "妇女署"),
    },
    "UN-NGLS": {
        "en": ("United Nations Non-Governmental Liaison Service", "UN-NGLS"),
        "fr": (
            "Service de liaison des Nations Unies avec les organisations non gouvernementales",
            "SLNG",
        ),
        "es": (
            "Servicio de Enlace de las Naciones Unidas con las Organizaciones No Gubernamentales",
            "SENG",
        ),
        "ru": ("Служба связи Организации Объединенных Наций с неправительственными организациями",),
        "ar": ("دائرة الأمم المتحدة للاتصال بالمنظمات غير الحكومية",),
        "zh": ("联合国非政府组织联络处",),
    },
    "ITC-ILO": {
        "en": ("International Training Centre of the ILO", "ITC-ILO", "ITCILO"),
        "fr": ("Centre international de formation de l'OIT", "CIF-OIT"),
        "es": ("Centro Internacional de Formación de la OIT", "CIF-OIT"),
        "ru": ("Международный учебный центр МОТ",),
        "ar": ("مركز التدريب الدولي التابع لمنظمة العمل الدولية",),
        "zh": ("国际劳工组织国际培训中心",),
    },
    "ICA": {
        "en": ("International Cooperative Alliance", "ICA"),
        "fr": ("Alliance coopérative internationale", "ACI"),
        "es": ("Alianza Cooperativa Internacional", "ACI"),
        "ru": ("Международный кооперативный альянс", "МКА"),
        "ar": ("الحلف التعاوني الدولي",),
        "zh": ("国际合作社联盟",),
    },
    "EESC": {
        "en": ("European Economic and Social Committee", "EESC"),
        "fr": ("Comité économique et social européen", "CESE"),
        "es": ("Comité Económico y Social Europeo", "CESE"),
        "ru": ("Европейский экономический и социальный комитет", "ЕЭСК"),
    },
    "CIRIEC": {
        "en": (
            "International Centre of Research and Information on the Public, Social and "
            "Cooperative Economy",
            "CIRIEC",
        ),
        "fr": (
            "Centre international de recherches et d'information sur l'économie publique, "
            "sociale et coopérative",
            "CIRIEC",
        ),
        "es": (
            "Centro Internacional de Investigación e Información sobre la Economía Pública, "
            "Social y Cooperativa",
            "CIRIEC",
        ),
    },
    "CSEND": {"en": ("Centre for Socio-Eco-Nomic Development", "CSEND")},
    "EMES": {"en": ("EMES International Research Network", "EMES")},
    "EURICSE": {
        "en": ("European Research Institute on Cooperative and Social Enterprises", "EURICSE")
    },
    "DIESIS": {"en": ("DIESIS Network", "DIESIS")},
    "GSEF": {
        "en": ("Global Social Economy Forum", "GSEF"),
        "fr": ("Forum mondial de l'économie sociale", "GSEF"),
        "es": ("Foro Global de la Economía Social", "GSEF"),
    },
    "Euclid Network": {"en": ("Euclid Network",)},
    "Catalyst 2030": {"en": ("Catalyst 2030",)},
    "SSE IF": {
        "en": ("Social and Solidarity Economy International Forum", "SSE IF"),
        "fr": ("ESS Forum International", "ESS FI"),
    },
    "RIPESS": {
        "en": ("Intercontinental Network for the Promotion of Social Solidarity Economy", "RIPESS"),
        "fr": ("Réseau intercontinental de promotion de l'économie sociale solidaire", "RIPESS"),
        "es": ("Red Intercontinental de Promoción de la Economía Social Solidaria", "RIPESS"),
    },
    "FMDV": {
        "en": ("Global Fund for Cities Development", "FMDV"),
        "fr": ("Fonds mondial pour le développement des villes", "FMDV"),
        "es": ("Fondo Mundial para el Desarrollo de las Ciudades", "FMDV"),
    },
    "WFTO": {
        "en": ("World Fair Trade Organization", "WFTO"),
        "fr": ("Organisation mondiale du commerce équitable", "WFTO"),
        "es": ("Organización Mundial del Comercio Justo", "WFTO"),
    },
}


def folded(text: str) -> str:
    """A name as compared: without case, accents or punctuation, one space between
    words ("Organización  Internacional" and "organizacion internacional" are alike)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", bare))


def names_of(acronym: str) -> Iterator[str]:
    """Every name and acronym of an organization, in every language known here."""
    for names in ORGANIZATION_NAMES.get(acronym, {}).values():
        yield from names


@cache
def _acronyms_by_name() -> dict[str, frozenset[str]]:
    by_name: dict[str, set[str]] = {}
    for acronym in ORGANIZATION_NAMES:
        for name in (acronym, *names_of(acronym)):
            by_name.setdefault(folded(name), set()).add(acronym)
    return {name: frozenset(acronyms) for name, acronyms in by_name.items()}


def acronyms_named(text: str) -> frozenset[str]:
    """The organizations a name or an acronym in any language stands for ("OIT": ILO),
    compared without case, accents or extra spaces; empty when it names none known here."""
    return _acronyms_by_name().get(folded(text), frozenset())
