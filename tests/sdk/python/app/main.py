import json, sys, sentry_sdk
from app.payments import charge
sentry_sdk.init(dsn=sys.argv[1], release=sys.argv[2], environment="production")
if sys.argv[3:] == ["unhandled"]:
    charge({"amount": 10, "quantity": 0})  # uncaught: the SDK's excepthook reports it, atexit flushes
try:
    charge({"amount": 10, "quantity": 0})
except Exception as e:
    event_id = sentry_sdk.capture_exception(e)
sentry_sdk.flush(10)
transport = sentry_sdk.get_client().transport
print(json.dumps({"event_id": event_id, "compression": getattr(transport, "_compression_algo", None)}))
