"""schemathesis hooks for contract/run.sh (loaded through SCHEMATHESIS_HOOKS).

The run signs in once, as the admin, and must keep that session to the end.
Changing the admin's own password, role or active flag, or deleting the
admin (possible once schemathesis has created a second admin), revokes its
access tokens, and the rest of the run would get only 401s: a documented
status, so no check would fail and most of the run would test nothing.
schemathesis finds the admin's id in GET /v1/me and GET /v1/users and follows
it into PATCH and DELETE /v1/users/{id}; this hook points those two calls at
an id no user has (a 404) instead. Every other user, including admins that
schemathesis creates, is changed and deleted as generated.
"""

import os
import uuid

import schemathesis

ADMIN_ID = os.environ["RAPPORT_CONTRACT_ADMIN_ID"].lower()
LOG = os.environ.get("RAPPORT_CONTRACT_HOOK_LOG")
GUARDED = {("PATCH", "/v1/users/{id}"), ("DELETE", "/v1/users/{id}")}


@schemathesis.hook
def before_call(context, case, kwargs):
    if (case.method.upper(), case.path) not in GUARDED:
        return
    parameters = case.path_parameters or {}
    if str(parameters.get("id", "")).lower() == ADMIN_ID:
        case.path_parameters = {**parameters, "id": str(uuid.uuid4())}
        if LOG:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(f"{case.method.upper()} {case.path}\n")
