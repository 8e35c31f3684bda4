"""Is this online pharmacy safe? What a page's own words show, never a verdict of "safe".

Every sign comes from the criteria in the project's clinical reference
(``../shared/clinical/alternatives.md`` section 3: FDA BeSafeRx [P2][P2b][P3], NABP [P4]-[P9],
LegitScript [P10]-[P14]) with its source keys as written there. A page is read as plain text
(the caller turns HTML into text): warning signs are looked for in its wording, and each sign
of a legitimate pharmacy that the page does not show is reported as missing ("not found").
A warning sign is not found in advice about pharmacies in general, in a refusal before or after
it ("we never sell ... without a prescription", "no prescription? we can't fill your order"),
nor, for shipping and location, when denied ("we do not ship internationally") or when the
orders are filled in a US state.

The verdict is ``warning_signs`` when any warning sign is found, else ``no_warning_signs_found``;
it never says a pharmacy is safe. What only a look-up can show (the state licence, the .pharmacy
domain, seals, the domain's registration) is listed in ``to_check``. Pure: no I/O, no network.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal, Protocol

Verdict = Literal["warning_signs", "no_warning_signs_found"]
SignKind = Literal["warning", "missing"]

NOT_FOUND = "not found"
CANNOT_CONFIRM = "cannot confirm it is safe"
EVIDENCE_CHARS = 160  # how much of the page is quoted around a match (display only)
MATCHES_LOOKED_AT = 1000  # per pattern: bounds the work on a page that repeats advice
SENTENCE_CHARS = 400  # how far back and ahead a sentence is looked for (bounds the work per match)

# The source list of alternatives.md, keys as written there (only the keys this check cites).
SOURCES: dict[str, str] = {
    "P1": "FDA BeSafeRx frequently asked questions "
    "(fda.gov/drugs/besaferx-…/besaferx-frequently-asked-questions-faqs)",
    "P2": "FDA BeSafeRx criteria, as reproduced by woodrufflab.org/blog/beware-line-pharmacies "
    "and uic.edu/…/BeSafeRx.php",
    "P2b": "FDA BeSafeRx warning signs, as reported by "
    "abc3340.com/archive/beware-of-online-pharmacies-09-02-2015",
    "P3": "FDA internet-pharmacy warning-letters text (einpresswire.com/article/597954112)",
    "P4": "NABP Safe.Pharmacy, buy safely (safe.pharmacy/buy-safely/)",
    "P5": "NABP Digital Pharmacy Accreditation, formerly VIPPS (nabp.pharmacy/programs/digital-pharmacy/; "
    "nabp.pharmacy/programs/vipps/)",
    "P6": "NABP, is that pharmacy safe? and why Not Recommended (nabp.net/…/is-that-pharmacy-safe/; "
    "nabp.net/…/why-not-recommended)",
    "P7": "NABP FAQ, as reproduced by reliasmedia.com/articles/2757",
    "P9": "news-medical.net/news/20160730/… (the .pharmacy domain)",
    "P10": "LegitScript pharmacy certification standards "
    "(legitscript.com/certification/pharmacies/standards/)",
    "P11": "LegitScript blog on standards 8-11 (legitscript.com/blog/2009/…)",
    "P12": "LegitScript, rogue pharmacies (legitscript.com/services/registrars)",
    "S13": "Valium (diazepam) label, DailyMed setid=554baee5-b171-4452-a50a-41a0946f956c: Schedule C-IV",
    "S29": "Reeves et al., Carisoprodol: update on abuse potential and legal status: Schedule IV",
}

_IGNORE = re.IGNORECASE
# A warning-sign match is advice (not evidence) only when its clause is about pharmacies in
# general: "avoid any shop that ...", "sites that ...", "never buy from ...", "be wary of pharmacies
# that ...", "never buy baclofen without a prescription", "red flags: ...". A "don't" or "never"
# elsewhere ("Don't wait for a doctor: order Valium without a prescription") is not.
_SELLERS = r"(sites?|websites?|shops?|stores?|sellers?|vendors?|pharmac(y|ies)|places?|offers?)"
_WARY = (
    r"\b(avoid|beware( of)?|be (wary|careful|suspicious) (of|with|about)|stay away from|steer clear of|"
    r"watch out for|look out for|(never|don'?t|do not) (trust|use|buy from|order from|purchase from))"
    r"( (any|all|a|an|the|such|online|unlicensed|rogue|illegal|fake|foreign|cheap|other|those))*\s*"
)
_WARY_CUE = re.compile(_WARY, _IGNORE)  # advice only when the sign's words follow at once
_GENERAL = re.compile(
    rf"\b{_SELLERS} (that|which|who|offering|selling|shipping|claiming|located|based|operating)\b|"
    r"\b(pharmacies|sites|websites|shops|stores|sellers|vendors) (are |is )?(located|based|operating)\b|"
    rf"\bif (a|an|the|any|your) (online )?{_SELLERS}\b|"
    # "some sites sell ...", "many online pharmacies are based in ..."
    r"\b(some|many|most|other|certain|these|those|such|fake|rogue|illegal|unlicensed|foreign) "
    r"(online )?(pharmacies|sites|websites|shops|stores|sellers|vendors)\b|"
    rf"{_WARY}{_SELLERS}\b|"
    r"\b(never|don'?t|do not|avoid|should not|shouldn'?t|must not|mustn'?t)( ever)? "
    r"(buy|order|purchase|get|obtain|take|use)(ing)?\b",
    _IGNORE,
)
_LIST_CUE = re.compile(r"\b(warning signs?|red flags?|signs of an? (rogue|fake|illegal|unsafe))\b", _IGNORE)
# after the cue, the page speaks for itself: "unlike sites that make you wait, we sell ...",
# "avoid the hassle and buy ...", "..., order now without a prescription"
_PIVOT = re.compile(
    r"\b(unlike|we|we'?ll|we'?re|our)\b|"
    r"(\band|\bso|\bthen|[,(])\s+(just |simply |you can )?(buy|order|get|purchase|shop|grab|enjoy|save)\b",
    _IGNORE,
)
_CLAUSE_BREAKS = (": ", "; ", " - ", " \u2013 ", " \u2014 ", ":\n")
# "we will not fill any order without a valid prescription": a refusal to sell before the match
_REFUSAL = re.compile(
    r"\b(not|never|won'?t|don'?t|doesn'?t|cannot|can'?t|refuse to|unable to)( \w+){0,2}? "
    r"(sell|sold|fill|dispens|ship|suppl|send|sent|accept|process|deliver|release|provid|give|issu|mail)\w*",
    _IGNORE,
)
# "No prescription? We can't fill your order without one", "without a prescription you cannot buy":
# a refusal after the match, in its clause (or in the sentence after a question)
_REFUSAL_AFTER = re.compile(
    r"\b(not|never|won'?t|cannot|can'?t|unable to)( \w+){0,2}? "
    r"(sell|fill|dispens|suppl|buy|order|purchase|get|accept|process|ship|deliver|provid|offer)\w* "
    r"(it|them|one|any|anything|this|that|here|without|to you|"
    r"your (order|prescription|medicines?|medications?)|"
    r"(prescription )?(medicines?|medications?|drugs?|orders?))\b|"
    r"\b(is|are) (not|never) (available|offered|possible)\b|\bunavailable\b",
    _IGNORE,
)
# "We do not ship internationally", "we don't offer international shipping": shipping and location
# signs denied just before the match
_DENIED_BEFORE = re.compile(
    r"\b(not|never|no longer|cannot|\w+n['\u2019]t)( \w+){0,2} ?$",
    _IGNORE,
)
_NEGATABLE = ("ships_worldwide_or_from_abroad", "located_outside_us")
_DENIAL = re.compile(r"\b(no|not|without|never|\w+n['\u2019]t)\b[^.!?\n]*$", _IGNORE)
# Advice about pharmacies in general ("stick to pharmacies that require a valid prescription")
# does not show that this page's pharmacy does it.
_ADVICE = re.compile(
    r"\b(look for|stick to|make sure|choose|check (that|for|whether)|should|pharmac(y|ies) that|"
    r"sites? that|shops? that|safe (online )?pharmac(y|ies))\b",
    _IGNORE,
)


class Finder(Protocol):
    """What a sign's pattern does: its matches in a text, in order (a compiled pattern is one)."""

    def finditer(self, string: str, /) -> Iterator[re.Match[str]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Sign:
    """One criterion of the reference: a warning sign to look for, or a sign of a legitimate
    pharmacy whose absence is reported. ``patterns`` are matched against the page's text."""

    code: str
    kind: SignKind
    text: str
    sources: tuple[str, ...]
    patterns: tuple[Finder, ...]
    # the patterns run only when one of these (lower case) is in the page; () runs them always
    needles: tuple[str, ...] = ()
    advice_can_mention: bool = False  # skip a match in a sentence that warns against it
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A warning sign found (with the words that show it) or a sign of a legitimate pharmacy
    that the page does not show (code ``missing_`` + the sign's code, evidence ``"not found"``)."""

    code: str
    kind: SignKind
    text: str
    evidence: str
    sources: tuple[str, ...]
    unconfirmed: bool = False
    sign: str = ""  # a missing sign: the sign itself, as a sentence ("Requires a valid prescription ...")


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """Something only a person can check, off the page (a licence look-up, the domain)."""

    text: str
    sources: tuple[str, ...]
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PharmacyCheck:
    """The result: never says "safe". ``found_positive``: the signs of a legitimate pharmacy
    the page shows, with their evidence (they are not flags)."""

    verdict: Verdict
    summary: str
    flags: tuple[Flag, ...]
    found_positive: tuple[Flag, ...]
    to_check: tuple[Check, ...]
    sources: tuple[str, ...]

    @property
    def warnings(self) -> tuple[Flag, ...]:
        """The warning signs found, with their evidence."""
        return tuple(flag for flag in self.flags if flag.kind == "warning")

    @property
    def missing(self) -> tuple[Flag, ...]:
        """The signs of a legitimate pharmacy the page does not show (``sign``: each, as a sentence)."""
        return tuple(flag for flag in self.flags if flag.kind == "missing")


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, _IGNORE) for p in patterns)


_RX = r"(a |any |valid |doctor'?s? |the )*(prescriptions?|rx|script)"
# nouns after "no prescription" that make it about something else ("no prescription transfer fees")
_RX_NOUNS = (
    r"(transfers?|refills?|fees?|charges?|costs?|co-?pays?|insurance|coverage|plans?|cards?|savings|"
    r"discounts?|history|records?|labels?|bottles?|drugs?|medicines?|medications?|pick-?ups?)"
)

# Countries and regions other than the US, for "located outside the US" [P2][P2b]. Names also
# carried by US places are not read as abroad when a US state follows ("Lebanon, Ohio", "Panama
# City, FL") or "New" comes before ("New Mexico", "New England").
_US_STATES = (
    r"al|ak|az|ar|ca|co|ct|de|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|nc|"
    r"nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|dc|alabama|alaska|arizona|arkansas|california|"
    r"colorado|connecticut|delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|"
    r"louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|"
    r"nevada|new hampshire|new jersey|new mexico|new york|north carolina|north dakota|ohio|oklahoma|"
    r"oregon|pennsylvania|rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|"
    r"washington|west virginia|wisconsin|wyoming"
)
_ABROAD = (
    r"(?<!new )(?:(?:"
    r"afghanistan|africa|albania|algeria|andorra|angola|antigua|argentina|armenia|asia|"
    r"australia|austria|azerbaijan|bahamas|bahrain|bangladesh|barbados|belarus|belgium|belize|"
    r"benin|bhutan|bolivia|bosnia|botswana|brazil|brunei|bulgaria|burkina faso|burundi|cambodia|"
    r"cameroon|canada|cape verde|central african republic|central america|chile|china|colombia|"
    r"comoros|congo|costa rica|croatia|curacao|cyprus|czech republic|czechia|djibouti|dominica|"
    r"dominican republic|ecuador|egypt|el salvador|england|eritrea|estonia|eswatini|ethiopia|"
    r"europe|fiji|finland|france|gabon|gambia|germany|ghana|gibraltar|great britain|greece|"
    r"grenada|guatemala|guinea|guyana|haiti|honduras|hong kong|hungary|iceland|india|indonesia|"
    r"iran|iraq|ireland|israel|italy|ivory coast|jamaica|japan|kazakhstan|kenya|korea|kosovo|"
    r"kuwait|kyrgyzstan|laos|latvia|lesotho|liberia|libya|liechtenstein|lithuania|luxembourg|"
    r"macau|madagascar|malawi|malaysia|maldives|mali|malta|mauritius|moldova|monaco|mongolia|"
    r"montenegro|morocco|mozambique|myanmar|namibia|nepal|netherlands|new zealand|nicaragua|"
    r"niger|nigeria|north macedonia|oman|pakistan|papua new guinea|paraguay|philippines|"
    r"portugal|qatar|romania|russia|rwanda|saint kitts|saint lucia|samoa|saudi arabia|scotland|"
    r"senegal|serbia|seychelles|sierra leone|singapore|slovakia|slovenia|somalia|south africa|"
    r"south america|south korea|spain|sri lanka|sudan|suriname|sweden|switzerland|syria|taiwan|"
    r"tajikistan|tanzania|thailand|the caribbean|the eu|the netherlands|the philippines|togo|"
    r"tonga|trinidad|tunisia|turkey|turkmenistan|uae|uganda|uk|ukraine|united arab emirates|"
    r"united kingdom|uruguay|uzbekistan|vanuatu|venezuela|viet nam|vietnam|wales|yemen|zambia|"
    r"zimbabwe"
    r")\b|(?:lebanon|peru|mexico|poland|denmark|norway|cuba|panama|jordan|holland)\b(?!(?: city)?, (?:"
    rf"{_US_STATES})\b))"
)
_ABROAD_ADJECTIVE = (
    r"(?:"
    r"canadian|mexican|indian|british|english|irish|scottish|australian|new zealand|chinese|"
    r"turkish|pakistani|thai|singaporean|mauritian|vanuatuan|belizean|panamanian|dominican|"
    r"costa rican|israeli|cypriot|maltese|european|asian|german|dutch|french|spanish|italian|"
    r"swiss|polish|russian|ukrainian|indonesian|philippine|filipino|vietnamese|malaysian|"
    r"egyptian|nigerian|bangladeshi|brazilian|argentin(e|ian)|colombian|peruvian|japanese|"
    r"korean|hong kong|emirati|jordanian|lebanese|greek|bulgarian|romanian|hungarian|czech|"
    r"portuguese|swedish|norwegian|danish|finnish|belgian|austrian|south african|kenyan|"
    r"moroccan|saudi|iranian|sri lankan|nepalese|caribbean|latvian|lithuanian|estonian|serbian|"
    r"croatian"
    r")"
)

# "...; all orders are filled in Ohio": the pharmacy itself is in the US (a location abroad in the
# same sentence is then an office, not the pharmacy)
_DISPENSED_IN_US = re.compile(
    r"\b(filled|dispensed|fulfilled|compounded|prepared)( and \w+)? (in|from) "
    r"(our (pharmacy|store|facility|warehouse) in )?([A-Za-z.' -]{1,30}, ){0,2}"
    rf"(the us|the u\.s\.|the usa|the united states|{_US_STATES})\b",
    _IGNORE,
)

WARNING_SIGNS: tuple[Sign, ...] = (
    Sign(
        code="no_prescription",
        needles=("prescri", "rx", "script", "doctor", "counter", "questions asked"),
        kind="warning",
        text="Sells without a prescription: a safe online pharmacy always requires a valid prescription "
        "(BeSafeRx); LegitScript calls a pharmacy that sells without one rogue.",
        sources=("P2", "P6", "P12"),
        patterns=_rx(
            # not "no prescription transfer fees", "no prescription drugs are sold here"
            rf"\bno (prior |doctor'?s? )?(prescriptions?|rx|scripts?)\b(?!\s+{_RX_NOUNS}\b)",
            rf"\bwithout {_RX}",
            # "Prescription: not needed", "Rx - not required", "Prescription required: no",
            # "Prescription: optional"
            r"\b(prescriptions?|rx)\s*(?:[:=\u2013\u2014-]\s*)?(is |are )?"
            r"(not (needed|required|necessary)|optional\b)",
            r"\b(prescriptions?|rx) (needed|required|necessary)\s*[:=]\s*no\b",
            r"\bno (need|requirement) (for|of) (a )?(prescription|rx)",
            r"\bno doctor'?s? (visit|approval|consultation|note)",
            r"\b(prescription|rx)[- ]free\b",
            # "We never ask for a prescription", "we don't require a prescription"
            r"\b(never|don'?t|do not|won'?t|will not|doesn'?t|does not|no need to) "
            r"(ask|check|require|request|need)s? "
            r"(for |to see )?(a |an |any |your )?(valid |doctor'?s? )?(prescriptions?|rx|scripts?)\b",
            # "Forget the prescription", "Skip the doctor" (not "Don't forget your prescription")
            r"\b(?<!n't )(?<!n\u2019t )(?<!not )(?<!never )(forget|skip|ditch|bypass) (about )?(the |a )?"
            r"(prescriptions?|rx|scripts?|doctors?)\b",
            # "Get baclofen with no questions asked" (not "returns accepted, no questions asked")
            r"\b(baclofen|lioresal|diazepam|valium|carisoprodol|soma|tizanidine|zanaflex|pills|meds|"
            r"medications?|medicines?|tablets)\b[^.!?\n]{0,60}?\bno questions asked\b",
            r"\bover the counter\b.{0,40}\b(baclofen|diazepam|valium|carisoprodol|soma|tizanidine)\b",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="questionnaire_prescription",
        needles=("questionnaire", "consultation"),
        kind="warning",
        text="Prescription from an online questionnaire or consultation: NABP lists a prescription issued "
        "solely from an online questionnaire as a sign of a rogue site; LegitScript requires a valid "
        "prescription not issued solely from a questionnaire.",
        sources=("P6", "P7", "P10"),
        patterns=_rx(
            r"\b(online|medical|short|quick|simple|free) (health )?questionnaire",
            r"\bquestionnaire\b.{0,60}\bprescri",
            r"\bfree online (doctor )?consultation",
            r"\bonline consultation\b",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="deep_discount",
        needles=(
            "good to be true",
            "cheap",
            "bottom",
            "unbeatable",
            "lowest",
            "discount",
            "saving",
            "save",
            "%",
            "wholesale",
        ),
        kind="warning",
        text="Deep discounts or prices that seem too good to be true (BeSafeRx warning sign).",
        sources=("P2", "P2b"),
        patterns=_rx(
            r"\btoo good to be true\b",
            r"\bcheapest\b",
            r"\b(rock[- ]bottom|unbeatable|lowest) (prices?|rates?|costs?)\b",
            r"\b(huge|deep|massive|big|incredible|crazy) (discounts?|savings?)",
            r"\bsave (up to )?\d{2,3}\s?%",
            r"\b\d{2,3}\s?% off\b",
            r"\b(discount|cheap) (pills|meds|drugs|medications?|pharmacy)\b",
            r"\bwholesale prices?\b",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="spam_offers",
        needles=(
            "free",
            "bonus",
            "limited",
            "act now",
            "%",
            "discreet",
            "money",
            "unsubscribe",
            "receiving this",
        ),
        kind="warning",
        text="Spam-style selling (bonus or free pills, limited-time offers): BeSafeRx names spam or "
        "unsolicited email as a warning sign.",
        sources=("P2",),
        patterns=_rx(
            r"\b(free|bonus) (pills|tablets|viagra|cialis)\b",
            r"\blimited[- ]time (offer|deal|only)\b",
            r"\bact now\b",
            r"\b100\s?% (safe|guaranteed|satisfaction|anonymous|discreet)",
            r"\bdiscreet (packaging|shipping|delivery)\b",
            r"\bmoney[- ]back guarantee\b",
            r"\b(unsubscribe|you are receiving this (e-?mail|message))\b",
        ),
    ),
    Sign(
        code="ships_worldwide_or_from_abroad",
        needles=("ship", "deliver", "dispatched", "sent", "mailed"),
        kind="warning",
        text="Ships worldwide or ships from abroad (BeSafeRx warning sign).",
        sources=("P2", "P2b"),
        patterns=_rx(
            r"\bships? (worldwide|internationally|to (all|any|every) countr(y|ies)|all over the world)",
            r"\b(worldwide|international|global) (shipping|delivery)\b",
            r"\bwe (deliver|ship) (worldwide|to (all|any) countr)",
            r"\b(ship(s|ped)?|dispatched|delivered|sent|mailed) from "
            r"(overseas|offshore|abroad|our (international|overseas|offshore|foreign) )",
            rf"\b(ship(s|ped)?|dispatched|delivered|sent|mailed) from (the )?{_ABROAD}",
            rf"\b(ship(s|ped)?|dispatched|delivered|sent|mailed) from our {_ABROAD_ADJECTIVE} ",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="located_outside_us",
        needles=("located", "based", "operat", "headquartered", "our "),
        kind="warning",
        text="Located outside the US (BeSafeRx warning sign: located outside the US, or not licensed in "
        "the US).",
        sources=("P2", "P2b"),
        patterns=_rx(
            # "located in Vanuatu", "based in Toronto, Canada" (a city, a province, then the country)
            rf"\b(located|based|operating|headquartered|registered) (in|out of) "
            rf"(the )?([A-Za-z.' -]{{1,30}}, ){{0,2}}{_ABROAD}",
            r"\b(located|based|operating|headquartered) (overseas|offshore|abroad|outside (of )?(the )?"
            r"(us|u\.s\.|usa|united states|america))\b",
            # "our Canadian pharmacy"
            rf"\bour {_ABROAD_ADJECTIVE} (online |mail[- ]order |partner )?"
            r"(pharmac(y|ies)|warehouses?|facilit(y|ies)|dispensar(y|ies)|suppliers?|stores?|shops?|"
            r"offices?|headquarters|partners?|branch(es)?|labs?|laborator(y|ies))\b",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="email_only_contact",
        needles=("contact us", "reach us", "only", "no phone", "no telephone"),
        kind="warning",
        text="Contact by email only (no toll-free phone number and street address): an NABP sign of a "
        "rogue site.",
        sources=("P6", "P7"),
        patterns=_rx(
            r"\b(contact|reach) us (only )?(by|via|through) (e-?mail|our (contact|web) form)( only)?\b"
            r"(?!.{0,40}\b(phone|call|address))",
            r"\b(e-?mail|online form) only\b",
            r"\bno (phone|telephone) (support|number|calls)\b",
        ),
    ),
    Sign(
        code="po_box_only",
        needles=("box",),
        kind="warning",
        text="A PO box and no street address: a safe online pharmacy has a physical street address in "
        "the US (BeSafeRx; LegitScript standard 8).",
        sources=("P2", "P10"),
        patterns=_rx(r"\bP\.?\s?O\.? box\b\s*\d*", r"\bpost office box\b\s*\d*"),
    ),
)


class _DomainFinder:
    """The matches of a web-address pattern (labels ending in ``.``, then a last label) in linear
    time and bounded memory, the same as ``pattern.finditer(text)`` on any realistic page.

    A match is made of ``[a-z0-9-]`` and single dots only, so it lies inside one stretch of such
    characters (a "segment", cut at ``..``), and it ends at one of the segment's valid ends (the
    ``ending`` pattern). The pattern is run on the segments that have one, up to the last (one
    character further: what follows is looked at). Run on the whole text, the pattern would try
    every label of a long run of labels and read it to its end each time: quadratic. A segment
    longer than LONGEST_SEGMENT (a web address has at most 253 characters, RFC 1035) is read
    from at most LONGEST_SEGMENT characters before each valid end: one match over millions of
    labels would hold the regex engine's memory of every label.
    """

    # runs of these characters, then cut at each dot followed by a dot (a repeated group would
    # make the regex engine remember every character of a long run)
    _RUN = re.compile(r"[a-z0-9.-]+", _IGNORE)
    LONGEST_SEGMENT = 4096

    def __init__(self, pattern: str, ending: str) -> None:
        self.pattern = re.compile(pattern, _IGNORE)
        self.ending = re.compile(ending, _IGNORE)

    def finditer(self, string: str, /) -> Iterator[re.Match[str]]:
        for first, last in self._segments(string):
            yield from self._matches(string, first, last)

    def _segments(self, string: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each stretch of ``[a-z0-9-]`` and dots not followed by a dot."""
        for run in self._RUN.finditer(string):
            at, run_end = run.start(), run.end()
            while (double := string.find("..", at, run_end)) != -1:
                if double > at:
                    yield at, double
                at = double + 1
            yield at, run_end

    def _matches(self, string: str, first: int, last: int) -> Iterator[re.Match[str]]:
        """The pattern's matches in the segment ``string[first:last]``."""
        size = len(string)
        after = min(size, last + 1)
        if last - first <= self.LONGEST_SEGMENT:
            ends = [m.end() for m in self.ending.finditer(string, first, after)]
            if ends:
                yield from self.pattern.finditer(string, first, min(size, ends[-1] + 1))
            return
        at = first
        for end in self.ending.finditer(string, first, after):
            if end.end() <= at:
                continue
            window = max(at, end.end() - self.LONGEST_SEGMENT)
            for match in self.pattern.finditer(string, window, min(size, end.end() + 1)):
                yield match
                at = match.end()


# A US street address: a number, a capitalised street name and a street word (matched with case).
_STREET = (
    r"\b\d{1,6}\s+(?:[A-Z0-9][\w.'-]*\s+){1,5}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|"
    r"Lane|Ln|Way|Parkway|Pkwy|Court|Ct|Place|Pl|Highway|Hwy|Plaza|Square|Sq|Circle|Cir|Terrace|Pike)\b\.?"
)

POSITIVE_SIGNS: tuple[Sign, ...] = (
    Sign(
        code="requires_prescription",
        needles=("prescri",),
        kind="missing",
        text="Requires a valid prescription (BeSafeRx; NABP-verified sites accept only valid prescriptions).",
        sources=("P2", "P3", "P4"),
        patterns=_rx(
            # not "Prescription required: no"
            r"\b(valid |doctor'?s? )?prescriptions? (from (your|a) (doctor|prescriber|physician) )?"
            r"(is |are )?"
            r"(always |only |strictly )?(required|needed|necessary)(?!\s*[:=]\s*no\b)",
            # "requires a prescription", "all prescription medicines need a valid prescription", "you will
            # need a prescription" (not "you don't need a prescription": a denial before it; not the
            # question "do you need a prescription?")
            r"\b(requires?|needs?|need) (a |an |your |the )?(valid |current |written |signed |doctor'?s? )?"
            r"prescription\b(?! (transfer|refill))(?!\s*\?)",
            # "we only dispense medicines with a valid prescription", "dispensed only against a prescription"
            r"\b(only (sell|dispens|fill|suppl|ship|provid)\w*|"
            r"(sold|dispensed|filled|supplied|shipped|provided) only)( [\w-]+){0,4}? "
            r"(with|against|on|upon|after) (receipt of )?(a |an |your )?"
            r"(valid |signed |written )?prescription",
            # "we never sell prescription medicines without a prescription" (a refusal: not a warning)
            r"\b(never|not|won'?t|don'?t|cannot|can'?t|refuse to)( \w+){0,2}? (sell|fill|dispens|ship|suppl|"
            r"provid)\w*( [\w-]+){0,4}? without (a |any |valid |doctor'?s? )*prescription",
            # "your doctor must send us a prescription"
            r"\b(must|needs? to|has to|have to) (send|fax|upload|submit|provide|e-?prescribe)( us| it)?"
            r"( a| your| the)?( copy of)?( your)?( valid)? prescription",
            r"\b(only )?(accept|dispense|fill)s? (only )?(valid )?prescriptions",
            r"\b(upload|send|fax) (us )?(a copy of )?your prescription",
            r"\bwe (will )?(contact|call|verify with) your (doctor|prescriber)",
            r"\bwith a (valid )?prescription (from|by) your (doctor|prescriber|physician)",
        ),
        advice_can_mention=True,
    ),
    Sign(
        code="us_street_address",
        kind="missing",
        text="A physical street address in the US (BeSafeRx; LegitScript standard 8).",
        sources=("P2", "P3", "P10"),
        patterns=(re.compile(_STREET),),
    ),
    Sign(
        code="us_phone",
        kind="missing",
        text="A phone number in the US, readily accessible contact details (BeSafeRx; NABP).",
        sources=("P2", "P4", "P6"),
        patterns=_rx(
            r"(\+?1[-. ]?)?\(?\b(8(00|33|44|55|66|77|88)|[2-9]\d\d)\)?[-. ]\d{3}[-. ]\d{4}\b",
            r"\b1[-. ]?8(00|33|44|55|66|77|88)[-. ]?[A-Z]{3}[-. ]?[A-Z]{4}\b",
        ),
    ),
    Sign(
        code="licence_number",
        needles=("licen",),
        kind="missing",
        text="A pharmacy licence number (a safe pharmacy is licensed by the patient's state board of "
        "pharmacy; LegitScript's licensure standard).",
        sources=("P2", "P10"),
        patterns=_rx(
            r"\blicen[cs]e\s*(number|no\.?|num\.?|#|id)\s*[:#]?\s*"
            r"(?:[A-Z]{1,6}[ -]?)?\d(?:[A-Z0-9.-]*[A-Z0-9])?",
            r"\b(pharmacy|state|board of pharmacy)\s+licen[cs]e[ds]?\s*[:#]\s*"
            r"(?:[A-Z]{1,6}[ -]?)?\d(?:[A-Z0-9.-]*[A-Z0-9])?",
        ),
    ),
    Sign(
        code="licensed_pharmacist",
        needles=("pharmacist",),
        kind="missing",
        text="A licensed pharmacist available to answer questions (BeSafeRx; NABP; LegitScript standard 8).",
        sources=("P2", "P5", "P10"),
        patterns=_rx(
            r"\blicen[cs]ed pharmacists?\b",
            r"\b(talk|speak|chat) (to|with) (a|our|one of our) (licen[cs]ed )?pharmacists?\b",
            r"\b(ask|call|contact) (a|our) pharmacist\b",
            r"\bpharmacists? (is |are )?available\b",
            r"\bpharmacist consultations?\b",
        ),
    ),
    Sign(
        code="pharmacy_domain",
        needles=(".pharmacy",),
        kind="missing",
        text="A .pharmacy web address: vetted by NABP and, unlike logos and seals, it cannot be faked.",
        sources=("P4", "P9"),
        # NABP's own sites (nabp.pharmacy, safe.pharmacy) are named by advice pages: not the shop's domain
        patterns=(
            _DomainFinder(
                r"\b(?!(www\.)?(nabp|safe)\.pharmacy\b)([a-z0-9-]+\.)+pharmacy\b(?![\w-])",
                ending=r"\.pharmacy\b(?![\w-])",
            ),
        ),
    ),
    Sign(
        code="privacy_policy",
        needles=("privacy", "hipaa"),
        kind="missing",
        text="A privacy policy (NABP-verified sites comply with privacy laws; LegitScript's privacy "
        "standard: a HIPAA-compliant privacy policy).",
        sources=("P4", "P10"),
        patterns=_rx(
            r"\bprivacy (policy|notice|statement)\b", r"\bHIPAA\b", r"\bnotice of privacy practices\b"
        ),
    ),
)

# An email address: at most 64 characters before the "@" (RFC 5321), starting where a run of such
# characters starts (linear: no retry from inside a long run), then a domain with a dot.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+", _IGNORE)
EMAIL_ONLY_CONTACT = next(sign for sign in WARNING_SIGNS if sign.code == "email_only_contact")

REQUIRES_PRESCRIPTION = next(sign for sign in POSITIVE_SIGNS if sign.code == "requires_prescription")
CONTROLLED = _rx(r"\b(diazepam|valium|carisoprodol|soma)\b")

# A page selling a prescription medicine that never says a prescription is needed. The medicines
# are those of the project's references, each sold in the US under a prescription label (the
# generic and the brand names the references cite: baclofen.md, alternatives.md).
PRESCRIPTION_MEDICINES = _rx(
    r"\b(baclofen|lioresal|ozobax|lyvispah|fleqsuvy|tizanidine|zanaflex|dantrolene|dantrium|diazepam|valium|gabapentin|"
    r"neurontin|cyclobenzaprine|amrix|flexeril|methocarbamol|robaxin|carisoprodol|soma)\b"
)
ORDER_WORDS = _rx(
    r"\b(order now|buy now|add to (cart|basket|bag)|(go to |proceed to )?check ?out|place (your|an) order|"
    r"shopping (cart|basket))\b"
)
PRICE = _rx(r"(?:[$€£]\s?\d{1,6}(?:[.,]\d{1,2})?|\b\d{1,6}(?:[.,]\d{1,2})?\s?(?:usd|eur|gbp|\$|€|£))")
OFFER_CHARS = 200  # a price this close to the order words makes an offer
SELLS_WITHOUT_MENTIONING = Sign(
    code="sells_without_mentioning_prescription",
    kind="warning",
    text="Offers a prescription medicine for sale (a price, an order button) and never says a "
    "prescription is needed: a safe online pharmacy always requires a valid prescription (BeSafeRx; "
    'NABP-verified sites accept only valid prescriptions); NABP lists "no prescription required" as a '
    "sign of a rogue site, and LegitScript calls a pharmacy that sells without one rogue.",
    sources=("P2", "P4", "P6", "P12"),
    patterns=(),
)

TO_CHECK: tuple[Check, ...] = (
    Check(
        text="Look the pharmacy up in your state board of pharmacy's licence database: a safe online "
        "pharmacy is licensed by the patient's state board of pharmacy, and where it is located.",
        sources=("P2", "P4", "P10"),
    ),
    Check(
        text='Look the site up with NABP\'s Safe Site Search and its "Not Recommended" list.',
        sources=("P4",),
    ),
    Check(
        text="Read the address bar: a web address ending in .pharmacy has been vetted by NABP and cannot "
        "be faked; a .pharmacy name written on the page is not enough.",
        sources=("P4", "P9"),
    ),
    Check(
        text="Any seal or logo (NABP accreditation, VIPPS, LegitScript) counts only if the same site is "
        "listed when you look it up on NABP or LegitScript itself.",
        sources=("P4", "P10"),
    ),
    Check(
        text="The domain's registration should be accurate, linked to the pharmacy and not anonymous "
        "(LegitScript standard 10).",
        sources=("P10", "P11"),
    ),
    Check(
        text="NABP lists eight signs of a rogue site; Dosewise checks the five its reference could confirm. "
        "The other three are UNCONFIRMED and not checked: see NABP's own list.",
        sources=("P6", "P7"),
        unconfirmed=True,
    ),
)


_SENTENCE_ENDS = (". ", "! ", "? ", "\n")


def _sentence_start(text: str, start: int) -> int:
    """Where the sentence holding ``start`` begins (looking back at most SENTENCE_CHARS)."""
    floor = max(0, start - SENTENCE_CHARS)
    left = max(text.rfind(mark, floor, start) for mark in _SENTENCE_ENDS)
    return left + 1 if left != -1 else floor


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or line) holding ``text[start:end]``, at most SENTENCE_CHARS either side."""
    ceiling = min(len(text), end + SENTENCE_CHARS)
    right_marks = [i for i in (text.find(mark, end, ceiling) for mark in _SENTENCE_ENDS) if i != -1]
    right = min(right_marks) + 1 if right_marks else ceiling
    return text[_sentence_start(text, start) : right]


def _quote(text: str, start: int, end: int) -> str:
    """The words that show a sign: the match with some of its sentence, on one line."""
    sentence = _sentence_around(text, start, end)
    quoted = " ".join(sentence.split())
    if len(quoted) > EVIDENCE_CHARS:
        match_text = " ".join(text[start:end].split())
        at = quoted.find(match_text)
        begin = max(0, at - (EVIDENCE_CHARS - len(match_text)) // 2) if at >= 0 else 0
        quoted = ("…" if begin else "") + quoted[begin : begin + EVIDENCE_CHARS].strip() + "…"
    return quoted


def _clause_start(text: str, start: int) -> int:
    """Where the clause holding ``start`` begins: after the last colon, semicolon or dash of its
    sentence ("Don't wait for a doctor: order Valium ..." starts a new clause at "order")."""
    sentence_start = _sentence_start(text, start)
    ends = (text.rfind(mark, sentence_start, start) for mark in _CLAUSE_BREAKS)
    return max(
        [
            sentence_start,
            *(end + len(mark) for end, mark in zip(ends, _CLAUSE_BREAKS, strict=True) if end != -1),
        ]
    )


def _clause_after(text: str, end: int) -> str:
    """The rest of the clause after ``text[:end]``: to the next clause break or sentence end; after
    a question ("No prescription? We can't fill ..."), to the end of the next sentence."""
    ceiling = min(len(text), end + SENTENCE_CHARS)
    marks = (*_CLAUSE_BREAKS, *_SENTENCE_ENDS)
    stops = [i for i in (text.find(mark, end, ceiling) for mark in marks) if i != -1]
    stop = min(stops) if stops else ceiling
    if text.startswith("? ", stop) or text.startswith("?\n", stop):
        following = min(len(text), stop + 2 + SENTENCE_CHARS)
        stops = [i for i in (text.find(mark, stop + 2, following) for mark in marks) if i != -1]
        stop = min(stops) if stops else following
    return text[end:stop]


def _is_refused_or_negated(sign: Sign, text: str, start: int, end: int) -> bool:
    """True when the page refuses or denies what the match says: a refusal after it ("without a
    prescription you cannot buy ..."); for shipping and location, a denial just before it ("we do
    not ship internationally") or, for a location, the orders filled in a US state in the same
    sentence ("our customer service team is based in Toronto; all orders are filled in Ohio")."""
    if _REFUSAL_AFTER.search(_clause_after(text, end)) is not None:
        return True
    if sign.code not in _NEGATABLE:
        return False
    if _DENIED_BEFORE.search(text[max(0, start - 40) : start]) is not None:
        return True
    return sign.code == "located_outside_us" and (
        _DISPENSED_IN_US.search(_sentence_around(text, start, end)) is not None
    )


def _is_advice(sign: Sign, text: str, start: int) -> bool:
    """True when the sentence gives advice about pharmacies in general ("avoid any shop that sells
    without a prescription", "stick to pharmacies that require a valid prescription"): an advice
    page naming a sign does not show that sign. For a warning sign, the advice must be about
    sellers in general in the match's own clause, with nothing after it where the page speaks for
    itself; a refusal ("we do not sell without a prescription") is not a warning either."""
    if sign.kind != "warning":
        return _ADVICE.search(text, _sentence_start(text, start), start) is not None
    if _LIST_CUE.search(text, _sentence_start(text, start), start) is not None:
        return True
    clause_start = _clause_start(text, start)
    if any(cue.end() == start for cue in _WARY_CUE.finditer(text, clause_start, start)):
        return True  # "beware of huge discounts"
    for cue in (*_GENERAL.finditer(text, clause_start, start), *_REFUSAL.finditer(text, clause_start, start)):
        if (
            _PIVOT.search(text, cue.end(), start) is None
            and "unlike" not in text[clause_start : cue.start()].lower()
        ):
            return True
    return False


def _is_denied(text: str, start: int) -> bool:
    """True when the words just before a match deny it ("no valid prescription needed")."""
    return _DENIAL.search(text[max(0, start - 24) : start]) is not None


LOWER_CHARS = 65536  # lower-cased this much at a time


def lower_text(text: str) -> str:
    """``text.lower()`` for the keyword tests, a piece at a time: ``str.lower`` holds about 12
    bytes a character while it works (60 MB for a 5 MB page); in pieces, about the result."""
    if len(text) <= LOWER_CHARS:
        return text.lower()
    return "".join(text[at : at + LOWER_CHARS].lower() for at in range(0, len(text), LOWER_CHARS))


def _lower_pattern(source: str) -> str:
    """``source`` with its letters in lower case, its escapes (``\\b``, ``\\d``, ``\\S``) kept."""
    return re.sub(r"\\.|[A-Z]", lambda m: m.group() if m.group()[0] == "\\" else m.group().lower(), source)


@functools.cache
def _rest_lowered(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """For a pattern matched without case that starts with ``\\b``: the rest of it, in lower case,
    matched with case (None for any other pattern). Without the leading ``\\b`` and the
    ``IGNORECASE``, the regex engine can skip ahead to the pattern's first word: several times
    faster on a long page."""
    if not pattern.flags & re.IGNORECASE or not pattern.pattern.startswith("\\b"):
        return None
    return re.compile(_lower_pattern(pattern.pattern[2:]), pattern.flags & ~re.IGNORECASE)


def _lines_up(text: str, lowered: str) -> bool:
    """True when ``lowered`` (``text.lower()``) has each character at its place in ``text`` and a
    lower-case pattern matched with case finds what the pattern finds without case: no character
    became two ("İ"), and none of the two that ``IGNORECASE`` also reads as an ASCII letter."""
    return len(lowered) == len(text) and "\u0131" not in lowered and "\u017f" not in lowered


def _matches_by_lowered(pattern: Finder, text: str, lowered: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, its candidates found in ``lowered`` by :func:`_rest_lowered`:
    each is then matched by the pattern itself at its place in ``text`` (the leading ``\\b``
    included), so the matches are the pattern's own."""
    rest = _rest_lowered(pattern) if isinstance(pattern, re.Pattern) else None
    if rest is None or not isinstance(pattern, re.Pattern):
        yield from pattern.finditer(text)
        return
    at = 0
    while (candidate := rest.search(lowered, at)) is not None:
        match = pattern.match(text, candidate.start())
        if match is None:
            at = candidate.start() + 1
            continue
        yield match
        at = match.end() if match.end() > match.start() else match.start() + 1


def find_evidence(sign: Sign, text: str, *, lowered: str | None = None) -> str | None:
    """The first words of ``text`` that show ``sign``, or None. ``lowered``: ``text.lower()``,
    to skip the patterns of a sign none of whose words is on the page (a fast substring test)."""
    page = text.lower() if lowered is None else lowered
    if sign.needles and not any(needle in page for needle in sign.needles):
        return None
    fast = _lines_up(text, page)
    for pattern in sign.patterns:
        matches = _matches_by_lowered(pattern, text, page) if fast else pattern.finditer(text)
        for seen, match in enumerate(matches):
            if seen >= MATCHES_LOOKED_AT:
                break
            if sign.advice_can_mention and _is_advice(sign, text, match.start()):
                continue
            if sign.kind == "warning" and _is_refused_or_negated(sign, text, match.start(), match.end()):
                continue
            if sign.kind == "missing" and _is_denied(text, match.start()):
                continue
            return _quote(text, match.start(), match.end())
    return None


def _flag(sign: Sign, evidence: str) -> Flag:
    return Flag(
        code=sign.code,
        kind=sign.kind,
        text=sign.text,
        evidence=evidence,
        sources=sign.sources,
        unconfirmed=sign.unconfirmed,
    )


def find_offer_without_prescription(text: str) -> str | None:
    """The words of an offer to sell a prescription medicine (a price within OFFER_CHARS of order
    words, the medicine named on the page), or None. The caller checks that the page never says
    a prescription is needed."""
    medicine = next((m for p in PRESCRIPTION_MEDICINES for m in p.finditer(text)), None)
    if medicine is None:
        return None
    for seen, order in enumerate(m for p in ORDER_WORDS for m in p.finditer(text)):
        if seen >= MATCHES_LOOKED_AT:
            break
        window_start = max(0, order.start() - OFFER_CHARS)
        price = next(
            (m for p in PRICE for m in p.finditer(text, window_start, order.end() + OFFER_CHARS)), None
        )
        if price is None:
            continue
        start, end = min(price.start(), order.start()), max(price.end(), order.end())
        offer = " ".join(text[start:end].split())
        if len(offer) > EVIDENCE_CHARS:
            offer = " … ".join((" ".join(price.group().split()), " ".join(order.group().split())))
        return f"{offer} ({medicine.group()})"
    return None


def _says_prescription_needed(text: str, lowered: str) -> bool:
    """True when any words of the page say a prescription is needed, advice included ("stick to
    pharmacies that require a valid prescription" says it too). ``lowered``: ``text.lower()``."""
    if "prescri" not in lowered:
        return False
    fast = _lines_up(text, lowered)
    for pattern in REQUIRES_PRESCRIPTION.patterns:
        matches = _matches_by_lowered(pattern, text, lowered) if fast else pattern.finditer(text)
        for seen, match in enumerate(matches):
            if seen >= MATCHES_LOOKED_AT:
                break
            if not _is_denied(text, match.start()):  # not "you don't need a prescription"
                return True
    return False


def summarise(verdict: Verdict, *, missing: int, total_positive: int) -> str:
    """The sentence that goes with the verdict; never says "safe" without "cannot confirm"."""
    if verdict == "warning_signs":
        return (
            "Warning signs found: do not buy from this pharmacy until you have checked it; Dosewise "
            f"{CANNOT_CONFIRM}."
        )
    if missing:
        return (
            f"No warning signs found, but {missing} of the {total_positive} signs of a legitimate pharmacy "
            f"are not on the page: Dosewise {CANNOT_CONFIRM}."
        )
    return (
        "No warning signs found and the page shows every sign of a legitimate pharmacy that a page can "
        "show. A page alone does not prove a pharmacy is safe: check its licence and web address by hand."
    )


def check_pharmacy_page(text: str) -> PharmacyCheck:
    """The warning signs in ``text`` and the signs of a legitimate pharmacy it lacks, each with the
    evidence; what to check by hand; the verdict. ``text`` is the page as plain text."""
    flags: list[Flag] = []
    positive: list[Flag] = []
    lowered = lower_text(text)
    for sign in POSITIVE_SIGNS:
        evidence = find_evidence(sign, text, lowered=lowered)
        if evidence is None:
            continue
        positive.append(_flag(sign, evidence))
    has_street = any(flag.code == "us_street_address" for flag in positive)
    for sign in WARNING_SIGNS:
        if sign.code == "po_box_only" and has_street:
            continue
        evidence = find_evidence(sign, text, lowered=lowered)
        if evidence is not None:
            flags.append(_flag(sign, evidence))
    has_phone = any(flag.code == "us_phone" for flag in positive)
    if not has_street and not has_phone and not any(flag.code == "email_only_contact" for flag in flags):
        # an email address and neither a US phone number nor a street address [P6][P7]
        email = next(EMAIL.finditer(text), None) if "@" in text else None
        if email is not None:
            flags.append(_flag(EMAIL_ONLY_CONTACT, _quote(text, email.start(), email.end())))
    says_needed = any(flag.code == "requires_prescription" for flag in positive) or _says_prescription_needed(
        text, lowered
    )
    if not says_needed and not any(flag.code == "no_prescription" for flag in flags):
        offer = find_offer_without_prescription(text)
        if offer is not None:
            flags.append(_flag(SELLS_WITHOUT_MENTIONING, offer))
    if any(flag.code == "no_prescription" for flag in flags):
        controlled = next((m for p in CONTROLLED for m in p.finditer(text)), None)
        if controlled is not None:
            flags.append(
                Flag(
                    code="controlled_without_prescription",
                    kind="warning",
                    text="Offers a controlled substance (diazepam is Schedule C-IV, carisoprodol "
                    "Schedule IV) on a page that sells without a prescription.",
                    evidence=_quote(text, controlled.start(), controlled.end()),
                    sources=("S13", "S29", "P12"),
                )
            )
    found_codes = {flag.code for flag in positive}
    missing = [
        replace(
            _flag(sign, NOT_FOUND),
            code=f"missing_{sign.code}",
            text=f"Not found on the page: {sign.text[0].lower()}{sign.text[1:]}",
            sign=sign.text,
        )
        for sign in POSITIVE_SIGNS
        if sign.code not in found_codes
    ]
    verdict: Verdict = "warning_signs" if flags else "no_warning_signs_found"
    all_flags = (*flags, *missing)
    keys = {key for item in (*all_flags, *positive) for key in item.sources}
    keys.update(key for check in TO_CHECK for key in check.sources)
    return PharmacyCheck(
        verdict=verdict,
        summary=summarise(verdict, missing=len(missing), total_positive=len(POSITIVE_SIGNS)),
        flags=all_flags,
        found_positive=tuple(positive),
        to_check=TO_CHECK,
        sources=tuple(key for key in SOURCES if key in keys),
    )
