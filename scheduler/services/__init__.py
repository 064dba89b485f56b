"""Business operations: plain functions over models, no request or response objects. A refused
operation raises `errors.ServiceError` (nothing written); the caller commits.

Where each feature lives (services here; views in scheduler/<blueprint>/; templates/<dir>/):

=====================  ==========================  ===============================  ============
feature                services                    blueprint modules                templates
=====================  ==========================  ===============================  ============
sign-up, log in        registration, accounts,     auth/routes, auth/forms          auth/
                       profile, phones             (sessions: ../sessions.py)
home page, privacy     registration                main/routes                      main/
claim an imported      claims, importer            auth/claim,                      auth/
account, imports                                   coordinator/imports,             coordinator/
                                                   coordinator/import_forms,
                                                   coordinator/claim_codes
forgot password,       codes (senders), claims,    auth/codes,                      auth/
codes by SMS           registration                coordinator/claim_codes          coordinator/
availability, profile  availability, profile,      volunteer/routes,                volunteer/
                       my_page (/me in one read)   volunteer/forms,
                                                   volunteer/grid, volunteer/dates
my shifts, inbox,      my_shifts, inbox, signup,   volunteer/shifts,                volunteer/
self-sign-up, .ics     calendar                    volunteer/calendar,
                                                   coordinator/signup_toggle
periods, sites, pool,  periods, sites, pool,       coordinator/routes,              coordinator/
catalogue, dashboard   catalogue_admin, catalogue, coordinator/forms
                       dashboard
roster runs, review    rosters, coverage, demand,  coordinator/rosters              coordinator/
                       holes (runs: ../jobs.py and
                       ../planning.py)
hand edits, publish    editing, publishing,        coordinator/roster_edit          coordinator/
                       delivery, notifications,
                       senders (the channels),
                       reminders
ad-hoc messages        messages                    coordinator/messages,            coordinator/
                                                   checkin/messages                 checkin/
                       (form: ../message_forms.py)                                  messages/
messages (outbox),     outbox, delivery, senders,  coordinator/delivery,            coordinator/
group chat robots      robots (runs:               coordinator/routes (site form)
                       ../sending.py)
drop-outs, repair      repair, my_shifts, pool     coordinator/roster_repair,       coordinator/
                                                   coordinator/dropouts,
                                                   coordinator/volunteer_page
urgent requests        urgent, demand,             coordinator/urgent,              coordinator/
                       notifications               (../urgent_forms.py),            volunteer/
                                                   volunteer/urgent                 urgent/
sheets and exports     sheets, duty, exports,      sheets/routes, sheets/exports,   sheets/
                       spreadsheets, pdf           sheets/forms (../printing.py)
check-in and hours     attendance, hours, pdf      checkin/routes, checkin/forms,   checkin/
                                                   volunteer/hours
accounts (admin)       admin, accounts             admin/routes, admin/forms        admin/
call-ups (集结号)        callups, notifications,     coordinator/callups,             coordinator/
                       delivery, pdf               main/callup (/c/<token>)         main/
union tree (admin)     organisations, scope        admin/routes, admin/forms        admin/
reinforcement across   scope (draws_on), periods,  coordinator/reinforcement,       coordinator/
districts              urgent (escalate)           coordinator/rosters              urgent/
demo data, CLI         demo, catalogue, delivery   ../cli.py, ../cli_report.py      (none)
audit log              audit                       coordinator/audit_log            coordinator/
retention, ending a    retention, periods,         ../cli.py (retention),           coordinator/
period                 profile (anonymise)         coordinator/period_end
=====================  ==========================  ===============================  ============

Shared by many: scope (who sees what: a coordinator's or liaison's node of the union tree and
below; every list and every id a view takes goes through it), lookups (the draft, the latest
published version, open periods), errors (ServiceError), audit (every staff change writes its
row with audit.record), coverage (what a post is and when it is filled), demand (a post's head
count), duty (who is on duty in published versions), phones, spreadsheets.
See docs/architecture.md for the data flow and the import layering.
"""
