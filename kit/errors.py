"""Domain errors: each carries a message a person can act on and a stable ``code``.

Views map them to form errors or flash messages (``kit.web``), the API to a 4xx JSON body
(``kit.api``), through one handler each; nothing lets a domain error become a 500. The
apps raise these or their own subclasses (``governance.errors``).

Every code a client can meet is a member of ``ErrorCode``: a domain error given any other
code is a programming error (``ValueError``), so clients can match on codes, never on text,
and docs/api.md lists them all (a test compares).
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # -- generic -------------------------------------------------------------------------
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    INVALID_TRANSITION = "invalid_transition"
    TEXT_TOO_LONG = "text_too_long"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"  # the database is unreachable: 503 with Retry-After
    # -- the request itself (kit.guard) --------------------------------------------------
    TOO_LARGE = "too_large"
    MALFORMED_BODY = "malformed_body"
    JSON_TOO_DEEP = "json_too_deep"
    NUL_CHARACTER = "nul_character"
    CONTROL_CHARACTER = "control_character"
    # -- DRF's own (authentication, parsing, negotiation, throttling) --------------------
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    # -- submitting a request ------------------------------------------------------------
    ITEM_UNPUBLISHED = "item_unpublished"
    INVALID_ANSWERS = "invalid_answers"
    INVALID_COST = "invalid_cost"
    REQUESTER_WITHOUT_DEPARTMENT = "requester_without_department"
    NO_ACCOUNTABLE_HEAD = "no_accountable_head"
    NO_INDEPENDENT_APPROVER = "no_independent_approver"
    NO_SEPARATE_APPROVER = "no_separate_approver"
    NO_STEPS = "no_steps"
    NO_APPROVAL_STEP = "no_approval_step"
    NO_EXECUTION_STEP = "no_execution_step"
    # -- deciding and working steps ------------------------------------------------------
    ALREADY_DECIDED = "already_decided"
    SEPARATION_OF_DUTIES = "separation_of_duties"
    STEP_NOT_ACTIVE = "step_not_active"
    WRONG_STEP_KIND = "wrong_step_kind"
    OWN_REQUEST = "own_request"
    NOT_DECIDER = "not_decider"
    NOT_AGENT = "not_agent"
    NOT_OPS_LEADER = "not_ops_leader"
    COMMENT_REQUIRED = "comment_required"
    REASON_REQUIRED = "reason_required"
    INVALID_OUTCOME = "invalid_outcome"
    REQUEST_CLOSED = "request_closed"
    NOT_REQUESTER = "not_requester"
    ALREADY_YOURS = "already_yours"
    CLAIMED_BY_OTHER = "claimed_by_other"
    NOT_CLAIMED = "not_claimed"
    ACTUAL_COST_REQUIRED = "actual_cost_required"
    ACTUAL_COST_NOT_RECORDED = "actual_cost_not_recorded"
    # -- holds and the conversation ------------------------------------------------------
    ALREADY_ON_HOLD = "already_on_hold"
    NO_OPEN_QUESTION = "no_open_question"
    QUESTION_REQUIRED = "question_required"
    ANSWER_REQUIRED = "answer_required"
    COMMENT_EMPTY = "comment_empty"
    INTERNAL_NOT_ALLOWED = "internal_not_allowed"
    NOT_PARTICIPANT = "not_participant"
    NOT_AUTHOR = "not_author"
    NO_FILES = "no_files"
    FILE_EMPTY = "file_empty"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    FILE_TYPE_MISMATCH = "file_type_mismatch"
    # -- notifications -------------------------------------------------------------------
    NOTIFICATION_KIND_FIXED = "notification_kind_fixed"
    # -- delegations ---------------------------------------------------------------------
    DELEGATE_SELF = "delegate_self"
    DELEGATE_INACTIVE = "delegate_inactive"
    DELEGATE_NOT_ALLOWED = "delegate_not_allowed"
    DATES_REVERSED = "dates_reversed"
    DATES_PAST = "dates_past"
    DELEGATION_OVERLAPS = "delegation_overlaps"
    DELEGATION_ENDED = "delegation_ended"
    NOT_DELEGATOR = "not_delegator"
    # -- change plans and legacy workflows -----------------------------------------------
    NOT_PLAN_OWNER = "not_plan_owner"
    PLAN_WRONG_STATUS = "plan_wrong_status"
    PLAN_NOT_READY = "plan_not_ready"
    PLAN_CLOSED = "plan_closed"
    PLAN_ALREADY_LIVE = "plan_already_live"
    NAME_REQUIRED = "name_required"
    FIELD_REQUIRED = "field_required"
    OVERRIDE_NEEDS_OPS_LEADER = "override_needs_ops_leader"
    NOT_WORKFLOW_OWNER = "not_workflow_owner"
    ALREADY_RETIRED = "already_retired"
    EVIDENCE_REQUIRED = "evidence_required"
    RETIRED_IN_FUTURE = "retired_in_future"
    ITEM_NOT_IN_PLAN = "item_not_in_plan"
    # -- legacy import -------------------------------------------------------------------
    EMPTY_FILE = "empty_file"
    UNKNOWN_FORMAT = "unknown_format"
    MISSING_COLUMNS = "missing_columns"
    UNKNOWN_COLUMNS = "unknown_columns"
    UNREADABLE_FILE = "unreadable_file"
    CELL_TOO_LONG = "cell_too_long"
    IMPORT_TOO_LARGE = "import_too_large"
    INVALID_STATUS = "invalid_status"
    ALREADY_IMPORTED = "already_imported"
    EXTERNAL_KEY_REQUIRED = "external_key_required"
    EXTERNAL_KEY_TOO_LONG = "external_key_too_long"
    SUBMITTED_IN_FUTURE = "submitted_in_future"
    CLOSED_IN_FUTURE = "closed_in_future"
    CLOSED_BEFORE_SUBMITTED = "closed_before_submitted"
    OPEN_WITH_CLOSED_AT = "open_with_closed_at"
    # -- KPIs, notifications, periods ----------------------------------------------------
    NOT_KPI_OWNER = "not_kpi_owner"
    KPI_COMPUTED = "kpi_computed"
    PERIOD_FUTURE = "period_future"
    WEEKS_BACK = "weeks_back"
    NOT_RECIPIENT = "not_recipient"
    # -- the organisation: heads and leavers ---------------------------------------------
    HEAD_INACTIVE = "head_inactive"
    NO_SUCCESSOR = "no_successor"
    USER_INACTIVE = "user_inactive"
    # -- directory provisioning (SCIM) ---------------------------------------------------
    DIRECTORY_CONFLICT = "directory_conflict"
    UNKNOWN_DEPARTMENT = "unknown_department"
    UNKNOWN_PERSON = "unknown_person"
    CODE_KEPT = "code_kept"
    HEAD_KEPT = "head_kept"
    # -- budgets -------------------------------------------------------------------------
    OVER_BUDGET = "over_budget"
    NOT_FINANCE_CONTROLLER = "not_finance_controller"
    INVALID_BUDGET = "invalid_budget"
    INVALID_QUARTER = "invalid_quarter"
    UNKNOWN_COST_CENTRE = "unknown_cost_centre"
    BUDGET_ROWS_INVALID = "budget_rows_invalid"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INVALID
    status = 400

    def __init__(self, message: str, *, code: ErrorCode | str | None = None,
                 field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            # A code that is not an ErrorCode is a bug, caught by the first test that hits it.
            self.code = ErrorCode(code)
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    code = ErrorCode.INVALID
    status = 400


class NotAllowed(DomainError):
    code = ErrorCode.FORBIDDEN
    status = 403


class Conflict(DomainError):
    """The object is no longer in a state that allows the action (someone else acted first)."""

    code = ErrorCode.CONFLICT
    status = 409
