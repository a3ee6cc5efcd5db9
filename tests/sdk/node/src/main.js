const Sentry = require('@sentry/node');
// A generous shutdown timeout: the test machine may be busy when the uncaught exception flushes.
Sentry.init({ dsn: process.argv[2], release: process.argv[3], environment: 'production', shutdownTimeout: 20000 });
const { handleCheckout } = require('./handlers/checkout');
if (process.argv[4] === 'unhandled') {
  handleCheckout({ cart: null }); // uncaught: the SDK reports it, flushes, and exits with 1
}
let eventId;
try {
  handleCheckout({ cart: null });
} catch (e) {
  eventId = Sentry.captureException(e);
}
Sentry.flush(20000).then((flushed) => {
  console.log(JSON.stringify({ event_id: eventId, flushed }));
  process.exit(flushed ? 0 : 1);
});
