"""Repairs, technicians and dispatch."""

from __future__ import annotations

from flask import g
from nameko.exceptions import deserialize_to_instance

from services.common.schemas import LocationSchema
from services.dispatch import domain, schemas
from services.gateway.api import ApiBlueprint, IdempotencyHeaderSchema
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires

blp = ApiBlueprint("dispatch", __name__, url_prefix="/api/v1",
                   description="Repairs, technicians and dispatch")


rpc = service("dispatch")

# The dispatch domain's refusals arrive over RPC as themselves, and so get their own status
# and error code in the one error shape.
for _refusal in domain.REFUSALS:
    deserialize_to_instance(_refusal)


# ------------------------------------------------------------------ technicians


@blp.route("/technicians", methods=["POST"])
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.TechnicianCreateSchema)
@blp.response(201, schemas.TechnicianSchema)
def create_technician(body):
    """Register a technician (dispatcher). `sub` is the user id they sign in with."""
    return rpc("create_technician", actor=actor(),
               technician=schemas.TechnicianCreateSchema().dump(body))


@blp.route("/technicians")
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.TechnicianListArgs, location="query")
@blp.response(200, schemas.TechnicianPageSchema)
def list_technicians(args):
    """The roster, by name; filter by status or skill."""
    return rpc("list_technicians", actor=actor(), **args)


@blp.route("/technicians/me")
@requires("technician")
@blp.doc(security=BEARER)
@blp.response(200, schemas.TechnicianSchema)
def my_technician():
    """Your technician profile, status and location."""
    return rpc("my_technician", actor=actor())


@blp.route("/technicians/me/location", methods=["PATCH"])
@requires("technician")
@blp.doc(security=BEARER)
@blp.arguments(LocationSchema)
@blp.response(200, schemas.TechnicianSchema)
def set_my_location(body):
    """Report where you are now (from the phone); indexed by its H3 cell."""
    return rpc("set_my_location", actor=actor(), location=body)


@blp.route("/technicians/me/status", methods=["PATCH"])
@requires("technician")
@blp.doc(security=BEARER)
@blp.arguments(schemas.TechnicianStatusSchema)
@blp.response(200, schemas.TechnicianSchema)
def set_my_status(body):
    """Go available or offline. En route / on site follow your jobs."""
    return rpc("set_my_status", actor=actor(), status=body)


@blp.route("/technicians/<id:technician_id>", methods=["PATCH"])
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.TechnicianUpdateSchema)
@blp.response(200, schemas.TechnicianSchema)
def update_technician(body, technician_id):
    """Edit a technician (dispatcher)."""
    return rpc("update_technician", actor=actor(), technician_id=technician_id,
               changes=schemas.TechnicianUpdateSchema().dump(body))


@blp.route("/technicians/<id:technician_id>")
@requires("dispatcher", "technician")
@blp.doc(security=BEARER)
@blp.response(200, schemas.TechnicianSchema)
def get_technician(technician_id):
    """A technician (dispatchers; a technician only themself)."""
    return rpc("get_technician", actor=actor(), technician_id=technician_id)


# ------------------------------------------------------------------ repairs


@blp.route("/repairs", methods=["POST"])
@requires("resident", admin=False)  # reported by the resident whose home it is
@blp.doc(security=BEARER)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.arguments(schemas.RepairCreateSchema)
@blp.response(201, schemas.RepairSchema)
def request_repair(headers, body):
    """Report a household problem or book a home service. Answers with status open and the
    time a technician is due to arrive."""
    result = rpc("request_repair", actor=actor(), idempotency_key=headers["key"],
                 repair=schemas.RepairCreateSchema().dump(body))
    g.correlation_id = result["repair"]["id"]
    return result["repair"]


@blp.route("/repairs")
@requires("resident", "technician", "dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.RepairListArgs, location="query")
@blp.response(200, schemas.RepairPageSchema)
def list_repairs(args):
    """Your repairs (resident), your jobs (technician), or active jobs (dispatcher; filter
    by status), newest first."""
    return rpc("list_repairs", actor=actor(), **args)


@blp.route("/repairs/<id:repair_id>")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.RepairSchema)
def get_repair(repair_id):
    g.correlation_id = repair_id
    return rpc("get_repair", actor=actor(), repair_id=repair_id)


@blp.route("/repairs/<id:repair_id>/candidates")
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.response(200, schemas.CandidatesSchema)
def candidates(repair_id):
    """Available technicians with the skill, nearest first (ETA), then load and rating, with
    the reasons; and who was left out and why."""
    g.correlation_id = repair_id
    return rpc("candidates", actor=actor(), repair_id=repair_id)


@blp.route("/repairs/<id:repair_id>/assign", methods=["POST"])
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.AssignSchema)
@blp.response(200, schemas.RepairSchema)
def assign(body, repair_id):
    """Send a technician. If another dispatcher was faster, 409."""
    g.correlation_id = repair_id
    return rpc("assign", actor=actor(), repair_id=repair_id,
               technician_id=body["technician_id"])


def _move_view(action: str, move: domain.Move):
    """POST /repairs/{id}/<action, with dashes>: a move a person makes, from the domain's
    transition table (who makes it, what it says) and its body schema, if any."""
    schema = schemas.MOVE_SCHEMAS.get(action)

    def view(body=None, repair_id=None):
        g.correlation_id = repair_id
        payload = schema().dump(body) if schema is not None and body is not None else {}
        return rpc("act", actor=actor(), repair_id=repair_id, action=action, body=payload)

    view.__name__ = f"repair_{action}"
    view.__doc__ = move.says
    wrapped = blp.response(200, schemas.RepairSchema)(view)
    if schema is not None:
        wrapped = blp.arguments(schema)(wrapped)
    wrapped = blp.doc(security=BEARER)(wrapped)
    wrapped = requires(move.by)(wrapped)
    return blp.route(f"/repairs/<id:repair_id>/{action.replace('_', '-')}", methods=["POST"],
                     endpoint=f"repair_{action}")(wrapped)


for _action, _move in domain.PERSON_MOVES.items():
    _move_view(_action, _move)


@blp.route("/repairs/<id:repair_id>/new-code", methods=["POST"])
@requires("resident")
@blp.doc(security=BEARER)
@blp.response(200, schemas.RepairSchema)
def new_completion_code(repair_id):
    """Issue a new completion code (the reporting resident, while the job is active). After
    too many wrong codes the job is locked; a new code unlocks it."""
    g.correlation_id = repair_id
    return rpc("new_completion_code", actor=actor(), repair_id=repair_id)


# ------------------------------------------------------------------ dispatch


@blp.route("/dispatch/board")
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.response(200, schemas.BoardSchema)
def board():
    """Open and assigned jobs, and those at risk of or past their arrival promise."""
    return rpc("board", actor=actor())


@blp.route("/dispatch/stats")
@requires("dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.StatsArgs, location="query")
@blp.response(200, schemas.StatsSchema)
def stats(args):
    """Per local day and skill: share arriving within the promise, median arrival minutes,
    breaches."""
    return rpc("stats", actor=actor(),
               from_=args["from_"].isoformat() if args.get("from_") else None,
               to=args["to"].isoformat() if args.get("to") else None)
