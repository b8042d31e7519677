"""Who may do what: permissions, and the roles that hold them.

Every route declares exactly one permission through :func:`api.deps.require` (API) or
:func:`api.deps.page` (pages); :data:`PUBLIC` is declared explicitly by the few routes
anyone may call (login, health, the OpenAPI document, static files). A test walks the
application's routes and fails for any route without a declared permission.

- **admin**: everything.
- **caseworker**: the cases, homes, shuttle lines and rounds of their own office; funds
  read-only.
- **planner**: aggregate statistics, scenarios and the priority policy's audit only,
  never a name or an identity.
- **auditor**: the audit log.
"""

from __future__ import annotations

from agency.models import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"  # any logged-in user: their own profile, logout

BENEFICIARIES_READ = "beneficiaries:read"
BENEFICIARIES_WRITE = "beneficiaries:write"
LANDLORDS_READ = "landlords:read"
LANDLORDS_WRITE = "landlords:write"
UNITS_READ = "units:read"
UNITS_WRITE = "units:write"
FUNDS_READ = "funds:read"
LINES_READ = "lines:read"
LINES_WRITE = "lines:write"
FUNDS_WRITE = "funds:write"
ROUNDS_READ = "rounds:read"
ROUNDS_WRITE = "rounds:write"
EXPORTS_READ = "exports:read"
DASHBOARD_READ = "dashboard:read"
MAP_READ = "map:read"
STATS_READ = "stats:read"
SCENARIOS_RUN = "scenarios:run"
PRIORITY_AUDIT = "priority:audit"  # the priority policy across groups: aggregates only
AUDIT_READ = "audit:read"
USERS_ADMIN = "users:admin"
SUBJECT_RIGHTS = "subjects:rights"  # GDPR: a person's data exported whole, or erased
METRICS_READ = "metrics:read"  # /metrics (or the scraper's HOUSING_METRICS_TOKEN)
REPORTS_READ = "reports:read"  # reports to funders: aggregates, small counts hidden

ALL = frozenset(
    {
        AUTHENTICATED,
        BENEFICIARIES_READ,
        BENEFICIARIES_WRITE,
        LANDLORDS_READ,
        LANDLORDS_WRITE,
        UNITS_READ,
        UNITS_WRITE,
        FUNDS_READ,
        FUNDS_WRITE,
        LINES_READ,
        LINES_WRITE,
        ROUNDS_READ,
        ROUNDS_WRITE,
        EXPORTS_READ,
        DASHBOARD_READ,
        MAP_READ,
        STATS_READ,
        SCENARIOS_RUN,
        PRIORITY_AUDIT,
        AUDIT_READ,
        USERS_ADMIN,
        SUBJECT_RIGHTS,
        METRICS_READ,
        REPORTS_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: ALL,
    Role.caseworker: frozenset(
        {
            AUTHENTICATED,
            BENEFICIARIES_READ,
            BENEFICIARIES_WRITE,
            LANDLORDS_READ,
            LANDLORDS_WRITE,
            UNITS_READ,
            UNITS_WRITE,
            FUNDS_READ,
            LINES_READ,
            LINES_WRITE,
            ROUNDS_READ,
            ROUNDS_WRITE,
            EXPORTS_READ,
            DASHBOARD_READ,
            MAP_READ,
            PRIORITY_AUDIT,
            REPORTS_READ,
        }
    ),
    Role.planner: frozenset(
        {AUTHENTICATED, STATS_READ, SCENARIOS_RUN, FUNDS_READ, PRIORITY_AUDIT, REPORTS_READ}
    ),
    Role.auditor: frozenset({AUTHENTICATED, AUDIT_READ}),
}

# permissions whose routes may show a person's name or identity: never a planner's
NAMED = frozenset(
    {
        BENEFICIARIES_READ,
        BENEFICIARIES_WRITE,
        LANDLORDS_READ,
        LANDLORDS_WRITE,
        ROUNDS_READ,
        ROUNDS_WRITE,
        EXPORTS_READ,
        MAP_READ,
        SUBJECT_RIGHTS,
    }
)
assert not NAMED & ROLE_PERMISSIONS[Role.planner]


def allowed(role: Role | str, permission: str) -> bool:
    if permission == PUBLIC:
        return True
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
