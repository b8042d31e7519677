"""The pages' message keys that are built at run time (``t('status.' ~ s)``) or passed
through a variable, marked for Babel's extraction (``make messages``) so that the catalogues
keep them. ``tests/api/test_i18n.py`` checks each enumeration they come from is covered."""

from __future__ import annotations

from api.i18n import N_

DYNAMIC = (
    # dwellings.*
    N_("dwellings.new"), N_("dwellings.title"),
    # error.*
    N_("error.answer_reason"), N_("error.choose_answer"), N_("error.choose_status"),
    N_("error.conflict"), N_("error.csrf"), N_("error.decision_household"),
    N_("error.decision_kind"), N_("error.decision_unit"), N_("error.empty_note"),
    N_("error.forbidden"), N_("error.internal"), N_("error.invalid"), N_("error.not_found"),
    N_("error.too_large"), N_("error.too_many_requests"),
    # error.type.*
    N_("error.type.accepts_nothing"), N_("error.type.bool_parsing"), N_("error.type.cents"),
    N_("error.type.coords_both"), N_("error.type.date_from_datetime_parsing"),
    N_("error.type.date_parsing"), N_("error.type.enum"), N_("error.type.float_parsing"),
    N_("error.type.greater_than"), N_("error.type.greater_than_equal"),
    N_("error.type.int_from_float"), N_("error.type.int_parsing"), N_("error.type.less_than"),
    N_("error.type.less_than_equal"), N_("error.type.literal_error"), N_("error.type.missing"),
    N_("error.type.number"), N_("error.type.record"), N_("error.type.review_before_start"),
    N_("error.type.rooms"), N_("error.type.string_too_long"), N_("error.type.string_too_short"),
    N_("error.type.too_long"), N_("error.type.too_short"),
    # event.*
    N_("event.note"), N_("event.status"),
    # export.col.*
    N_("export.col.address"), N_("export.col.beneficiary"), N_("export.col.commute_km"),
    N_("export.col.contribution_cents"), N_("export.col.contribution_eur"),
    N_("export.col.family_name"), N_("export.col.fund"), N_("export.col.given_name"),
    N_("export.col.municipality"), N_("export.col.offer"), N_("export.col.outcome"),
    N_("export.col.persons"), N_("export.col.reasons"), N_("export.col.room"),
    N_("export.col.round"), N_("export.col.unit"), N_("export.col.unit_kind"),
    # export.*
    N_("export.file"),
    # flats.*
    N_("flats.new"), N_("flats.title"),
    # form.*
    N_("form.whole"),
    # gender.*
    N_("gender.F"), N_("gender.M"), N_("gender.X"),
    # import.error.*
    N_("import.error.column_missing"), N_("import.error.empty"), N_("import.error.empty_file"),
    N_("import.error.municipality"), N_("import.error.no_rows"), N_("import.error.office"),
    N_("import.error.other_office"), N_("import.error.registered"),
    N_("import.error.same_person"), N_("import.error.too_big"), N_("import.error.twice"),
    N_("import.error.unknown_column"), N_("import.error.unreadable"),
    # import.kind.*
    N_("import.kind.beneficiaries"), N_("import.kind.dwellings"), N_("import.kind.flats"),
    # lang.*
    N_("lang.ar"), N_("lang.en"), N_("lang.fr"), N_("lang.it"),
    # login.*
    N_("login.expired"), N_("login.failed"), N_("login.throttled"),
    # offer.*
    N_("offer.accepted"), N_("offer.pending"), N_("offer.refused_household"),
    N_("offer.refused_landlord"), N_("offer.unreachable"), N_("offer.withdrawn"),
    # priority.*
    N_("priority.base"), N_("priority.days_waiting"), N_("priority.exploitation_victim"),
    N_("priority.health"), N_("priority.informal_settlement"), N_("priority.minors"),
    # province.*
    N_("province.BA"), N_("province.BR"), N_("province.BT"), N_("province.FG"), N_("province.LE"),
    N_("province.TA"),
    # reason.*
    N_("reason.children_not_allowed"), N_("reason.forbidden"), N_("reason.funds_exhausted"),
    N_("reason.guarantee_exhausted"), N_("reason.no_fund_can_pay"),
    N_("reason.no_line_within_walk"), N_("reason.no_seat_on_line"),
    N_("reason.no_solution_in_time"), N_("reason.no_unit_within_commute"),
    N_("reason.not_reached_in_time"), N_("reason.not_step_free"),
    N_("reason.other_parts_not_searched"), N_("reason.outside_areas"),
    N_("reason.part_not_searched_in_time"), N_("reason.rooms_taken_by_other_gender"),
    N_("reason.round_infeasible"), N_("reason.safety"), N_("reason.too_large"),
    N_("reason.transport_budget_exhausted"), N_("reason.unaffordable_at_cap"),
    N_("reason.unit_not_available"), N_("reason.unit_type_not_accepted"),
    N_("reason.units_taken"), N_("reason.zero_priority"),
    # relation.*
    N_("relation.child"), N_("relation.other"), N_("relation.parent"), N_("relation.partner"),
    # result.*
    N_("result.FEASIBLE"), N_("result.INFEASIBLE"), N_("result.OPTIMAL"), N_("result.UNKNOWN"),
    # role.*
    N_("role.admin"), N_("role.auditor"), N_("role.caseworker"), N_("role.planner"),
    # round.*
    N_("round.adults_1"), N_("round.adults_n"), N_("round.minors_1"), N_("round.minors_n"),
    # round.status.*
    N_("round.status.cancelled"), N_("round.status.closed"), N_("round.status.offers"),
    N_("round.status.open"), N_("round.status.solved"),
    # scenarios.*
    N_("scenarios.choose_file"),
    # scenarios.form.*
    N_("scenarios.form.nothing"),
    # scenarios.plot.*
    N_("scenarios.plot.budget_vs_persons"), N_("scenarios.plot.commute"),
    N_("scenarios.plot.unplaced"),
    # scenarios.status.*
    N_("scenarios.status.done"), N_("scenarios.status.failed"),
    N_("scenarios.status.interrupted"), N_("scenarios.status.queued"),
    N_("scenarios.status.running"),
    # status.*
    N_("status.closed"), N_("status.housed"), N_("status.offered"), N_("status.suspended"),
    N_("status.waiting"),
    # unit.status.*
    N_("unit.status.available"), N_("unit.status.let"), N_("unit.status.withdrawn"),
)
