// The original source of the minified bundle (tests/api/sourcemaps_cli.rs): the test finds the
// line and column of the `throw` below in this file, and expects the incident there.
function divide(a, b) {
  if (b === 0) {
    throw new Error('division by zero in a minified bundle');
  }
  return a / b;
}

function average(values, count) {
  const total = values.reduce((sum, v) => sum + v, 0);
  return divide(total, count);
}

module.exports = { average };
