"""The agency's records: create, read, list, update and deactivate, each one audited.

One module per kind of record, all of it reachable from here (``records.create_dwelling``):

==========================  ===========================================================
module                      records
==========================  ===========================================================
``offices``, ``users``      offices; staff users, their password hashes, an admin kept
``beneficiaries``           households taken in charge: status, case history, members
``landlords``               landlords of an office
``units``                   what dwellings and shared flats share (:class:`Units`)
``dwellings``, ``flats``    each kind of unit (a flat's rooms)
``funds``                   budget lines (their money is the ledger's)
``lines``                   shuttle lines and their stops, seats used per month
``rounds``                  finding rounds (their lifecycle is :mod:`agency.rounds`)
``scenario_runs``           planners' what-if runs
``stats``                   aggregates and the audit log
``common``                  pages, searches, checked input, the office a record is in,
                            status changes, places
==========================  ===========================================================

The service, the importer and the command line all call these, so a rule is written once.

Conventions
-----------
- Every function takes the caller's :class:`~agency.audit.Actor`, adds its rows to the
  caller's session and flushes, and never commits: the caller owns the transaction.
- Every change, and every read of a person's record (a beneficiary, a landlord), writes an
  audit entry naming the record by its opaque ``ref`` only, never by a name.
- ``scope`` (an office id, or ``None`` for every office) restricts what a read or a change
  may reach: a record of another office is *not found* (its existence is never revealed);
  the :class:`NotFoundError` then says ``denied=True`` so the caller can log the attempt.
- Places are a municipality of Puglia, by name or ISTAT code, looked up in the offline
  gazetteer; the ISTAT code is stored, and the municipality's centre is used when no
  coordinates are given.
- Bad input raises :class:`RecordError`, whose message starts with the field's name.
"""

from __future__ import annotations

from agency.errors import DuplicateError, NotFoundError, RecordError
from agency.records.beneficiaries import (
    add_household_member,
    add_note,
    beneficiary_events,
    change_beneficiary_status,
    create_beneficiary,
    deactivate_beneficiary,
    get_beneficiary,
    household_members,
    list_beneficiaries,
    remove_household_member,
    status_moves,
    update_beneficiary,
)
from agency.records.common import MAX_PAGE, Page, municipality_name, resolve_municipality
from agency.records.dwellings import (
    DWELLINGS,
    create_dwelling,
    deactivate_dwelling,
    get_dwelling,
    list_dwellings,
    propose_dwelling,
    set_dwelling_status,
    update_dwelling,
)
from agency.records.flats import (
    FLATS,
    create_shared_flat,
    deactivate_shared_flat,
    get_shared_flat,
    list_shared_flats,
    rooms_of,
    set_shared_flat_status,
    update_shared_flat,
)
from agency.records.funds import (
    create_fund,
    deactivate_fund,
    get_fund,
    grant_fund,
    list_funds,
    update_fund,
)
from agency.records.landlords import (
    certify,
    create_landlord,
    get_landlord,
    landlord_ref_of,
    list_landlords,
    make_available,
    record_visit,
    set_terms,
    update_landlord,
    walk_view,
)
from agency.records.lines import (
    create_line,
    get_line,
    lines_of_office,
    list_lines,
    seats_used,
    stops_of,
    update_line,
)
from agency.records.offices import create_office, list_offices, office_by_code
from agency.records.rounds import list_rounds, round_by_ref
from agency.records.scenario_runs import (
    create_scenario_run,
    finish_scenario_run,
    get_scenario_run,
    list_scenario_runs,
)
from agency.records.stats import aggregate_stats, audit_export, audit_page
from agency.records.units import Units
from agency.records.users import (
    create_user,
    deactivate_user,
    hash_password,
    list_users,
    password_needs_rehash,
    reactivate_user,
    user_by_username,
    verify_password,
)

__all__ = [
    "DWELLINGS",
    "FLATS",
    "MAX_PAGE",
    "DuplicateError",
    "NotFoundError",
    "Page",
    "RecordError",
    "Units",
    "add_household_member",
    "add_note",
    "aggregate_stats",
    "audit_export",
    "audit_page",
    "beneficiary_events",
    "certify",
    "change_beneficiary_status",
    "create_beneficiary",
    "create_dwelling",
    "create_fund",
    "create_landlord",
    "create_line",
    "create_office",
    "create_scenario_run",
    "create_shared_flat",
    "create_user",
    "deactivate_beneficiary",
    "deactivate_dwelling",
    "deactivate_fund",
    "deactivate_shared_flat",
    "deactivate_user",
    "finish_scenario_run",
    "get_beneficiary",
    "get_dwelling",
    "get_fund",
    "get_landlord",
    "get_line",
    "get_scenario_run",
    "get_shared_flat",
    "grant_fund",
    "hash_password",
    "household_members",
    "landlord_ref_of",
    "lines_of_office",
    "list_beneficiaries",
    "list_dwellings",
    "list_funds",
    "list_landlords",
    "list_lines",
    "list_offices",
    "list_rounds",
    "list_scenario_runs",
    "list_shared_flats",
    "list_users",
    "make_available",
    "municipality_name",
    "office_by_code",
    "password_needs_rehash",
    "propose_dwelling",
    "reactivate_user",
    "record_visit",
    "remove_household_member",
    "resolve_municipality",
    "rooms_of",
    "round_by_ref",
    "seats_used",
    "set_dwelling_status",
    "set_shared_flat_status",
    "set_terms",
    "status_moves",
    "stops_of",
    "update_beneficiary",
    "update_dwelling",
    "update_fund",
    "update_landlord",
    "update_line",
    "update_shared_flat",
    "user_by_username",
    "verify_password",
    "walk_view",
]
