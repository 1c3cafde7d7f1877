"""Texts that reach a page from data rather than from a template: statuses, roles, weekdays,
the schemas' and services' field errors. Listed here (N_ marks them for extraction) so the
catalogs translate them; ``i18n.translate_message`` maps the ones with numbers in them."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the conventional name for "mark, do not translate yet"
    return text


STATUSES = [
    # orders
    N_("pending"), N_("confirmed"), N_("rejected"), N_("accepted"), N_("declined"),
    N_("out_for_delivery"), N_("delivered"), N_("cancelled"),
    # repairs
    N_("open"), N_("assigned"), N_("arrived"), N_("completed"), N_("cannot_fix"),
    # technicians
    N_("available"), N_("offline"), N_("en_route"), N_("on_site"),
]
ROLES = [N_("resident"), N_("merchant"), N_("technician"), N_("dispatcher"), N_("planner"),
         N_("admin")]
DAYS = [N_("mon"), N_("tue"), N_("wed"), N_("thu"), N_("fri"), N_("sat"), N_("sun")]
LABELS = [N_("Nearby"), N_("Basket"), N_("My orders"), N_("Repairs"), N_("Notices"),
          N_("Settings"), N_("Orders"), N_("Goods"), N_("Shop"), N_("Accept"),
          N_("Out for delivery"), N_("Delivered"),
          N_("Board"), N_("Roster"), N_("Today's figures"), N_("My jobs"), N_("Coverage")]
FIELD_ERRORS = [
    N_("Missing data for required field."), N_("Field may not be null."),
    N_("Invalid value."), N_("Not a valid integer."), N_("Not a valid number."),
    N_("Not a valid string."), N_("Not a valid boolean."), N_("Unknown field."),
    N_("String does not match expected pattern."), N_("not a valid id"),
    N_("use YYYY-MM-DD"), N_("6 digits"), N_("nothing to change"),
    N_("required when sold by weight"), N_("only for goods sold by weight"),
    N_("required when sold by piece"), N_("must contain a word to search for"),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid datetime."), N_("Not a valid email address."),
    N_("This form has expired. Reload the page and try again."),
    N_("out_of_delivery_range"),
    N_("the address is beyond the shop's delivery walk"),
    # dispatch: a candidate's reasons, a technician's refusals
    N_("no active jobs"), N_("not yet rated"), N_("offline"), N_("off shift"),
    N_("no location"), N_("booked for another job"),
    N_("You are on a job: your status follows it until you finish or hand it back."),
    N_("completion code does not match"), N_("completion code required"),
]
# Patterns with numbers in them: (regex over the English message, template to translate).
PATTERNS = [
    (r"^Must be greater than or equal to (?P<a>\S+) and less than or equal to (?P<b>\S+)\.$",
     N_("Must be between %(a)s and %(b)s.")),
    (r"^Must be greater than or equal to (?P<a>\S+)\.$", N_("Must be at least %(a)s.")),
    (r"^Must be less than or equal to (?P<a>\S+)\.$", N_("Must be at most %(a)s.")),
    (r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$",
     N_("Between %(a)s and %(b)s characters, please.")),
    (r"^Shorter than minimum length (?P<a>\d+)\.$", N_("At least %(a)s characters, please.")),
    (r"^Longer than maximum length (?P<a>\d+)\.$", N_("At most %(a)s characters, please.")),
    (r"^Must be one of: (?P<a>.*)\.$", N_("Choose one of: %(a)s.")),
    (r"^cannot (?P<a>\w+) an order that is (?P<b>\w+)$",
     N_("This order can no longer be changed that way (it is %(b)s).")),
    (r"^quantity must be between (?P<a>\d+) g and (?P<b>\d+) g, got (?P<c>\S+)$",
     N_("Between %(a)s g and %(b)s g, please.")),
    (r"^quantity must be between (?P<a>\d+) and (?P<b>\d+) pieces, got (?P<c>\S+)$",
     N_("Between %(a)s and %(b)s pieces, please.")),
    # dispatch: why a technician is ranked where they are, or left out
    (r"^ETA (?P<a>\S+) min on foot \((?P<b>[^)]+)\)$", N_("%(a)s min on foot (%(b)s)")),
    (r"^ETA (?P<a>\S+) min by e-bike \((?P<b>[^)]+)\)$", N_("%(a)s min by e-bike (%(b)s)")),
    (r"^(?P<a>\d+) active jobs?$", N_("%(a)s active jobs")),
    (r"^rating (?P<a>\S+) \((?P<b>\d+)\)$", N_("rated %(a)s (%(b)s ratings)")),
    (r"^busy \((?P<a>\w+)\)$", N_("busy on another job")),
    (r"^lacks skill (?P<a>\w+)$", N_("lacks the skill")),
    (r"^ETA (?P<a>\S+) min is over the (?P<b>\S+) min limit$",
     N_("%(a)s min away: over the %(b)s min limit")),
]
