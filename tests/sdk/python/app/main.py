import json, sys, sentry_sdk
from app.payments import charge
# A generous shutdown timeout: the test machine may be busy when the uncaught exception flushes.
sentry_sdk.init(dsn=sys.argv[1], release=sys.argv[2], environment="production", shutdown_timeout=20)
if sys.argv[3:] == ["unhandled"]:
    charge({"amount": 10, "quantity": 0})  # uncaught: the SDK's excepthook reports it, atexit flushes
try:
    charge({"amount": 10, "quantity": 0})
except Exception as e:
    event_id = sentry_sdk.capture_exception(e)
sentry_sdk.flush(20)
transport = sentry_sdk.get_client().transport
print(json.dumps({"event_id": event_id, "compression": getattr(transport, "_compression_algo", None)}))
