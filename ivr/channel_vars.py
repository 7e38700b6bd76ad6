"""Every channel variable the dialplan and the IVR server exchange, in one place."""

IVR_RESULT = "HOTLINE_IVR_RESULT"  # 'done', 'queue', or unset/other -> dialplan fallback
QUEUE = "HOTLINE_QUEUE"  # queue name the dialplan hands the call to
QUEUE_TIMEOUT = "HOTLINE_QUEUE_TIMEOUT"
SIP_CALL_ID = "HOTLINE_SIP_CALL_ID"  # filtered SIP Call-ID, set by the dialplan
CALL_ID = "HOTLINE_CALL_ID"  # the hotline's call id (Asterisk linkedid)
LANGUAGE = "HOTLINE_LANGUAGE"
CATEGORY = "HOTLINE_CATEGORY"

RESULT_DONE = "done"
RESULT_QUEUE = "queue"
RESULT_OVERLOAD = "overload"
RESULT_ERROR = "error"
